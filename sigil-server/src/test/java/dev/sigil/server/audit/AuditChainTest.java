package dev.sigil.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AuditChainTest {
    private static final String PREV = "ab".repeat(32);

    @Test
    void changingAnyFieldChangesTheHash() {
        String base = AuditChain.hash(1, 1000, "alice", "entry.create", "entry:1", "success", "{}", PREV);
        List<String> variants = List.of(
                AuditChain.hash(2, 1000, "alice", "entry.create", "entry:1", "success", "{}", PREV),
                AuditChain.hash(1, 1001, "alice", "entry.create", "entry:1", "success", "{}", PREV),
                AuditChain.hash(1, 1000, "alicf", "entry.create", "entry:1", "success", "{}", PREV),
                AuditChain.hash(1, 1000, "alice", "entry.update", "entry:1", "success", "{}", PREV),
                AuditChain.hash(1, 1000, "alice", "entry.create", "entry:2", "success", "{}", PREV),
                AuditChain.hash(1, 1000, "alice", "entry.create", "entry:1", "denied", "{}", PREV),
                AuditChain.hash(1, 1000, "alice", "entry.create", "entry:1", "success", "{\"a\":\"b\"}", PREV),
                AuditChain.hash(1, 1000, "alice", "entry.create", "entry:1", "success", "{}", AuditChain.GENESIS));

        Set<String> all = new HashSet<>(variants);
        all.add(base);

        assertThat(all).hasSize(variants.size() + 1);
        assertThat(base).matches("[0-9a-f]{64}");
    }

    @Test
    void movingTextBetweenAdjacentFieldsChangesTheHash() {
        assertThat(AuditChain.hash(1, 1000, "ab", "c.d", "s", "success", "{}", PREV))
                .isNotEqualTo(AuditChain.hash(1, 1000, "a", "bc.d", "s", "success", "{}", PREV));
    }

    @Test
    void theHashIsAStableFunctionOfTheRecord() {
        assertThat(AuditChain.hash(7, 1767225600000L, "alice", "entry.create", "entry:1", "success", "{}", AuditChain.GENESIS))
                .isEqualTo(AuditChain.hash(7, 1767225600000L, "alice", "entry.create", "entry:1", "success", "{}", AuditChain.GENESIS));
    }
}
