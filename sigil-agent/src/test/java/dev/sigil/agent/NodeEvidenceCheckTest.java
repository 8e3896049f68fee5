package dev.sigil.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class NodeEvidenceCheckTest {
    private static final Instant NOT_AFTER = Instant.parse("2026-06-01T00:00:00Z");

    @Test
    void x509popEvidenceGoesFromValidToExpiringSoonToExpired() {
        NodeEvidenceCheck check = new NodeEvidenceCheck("x509pop", Optional.of(NOT_AFTER));

        assertThat(check.check(NOT_AFTER.minus(Duration.ofDays(30)))).isEqualTo(new NodeEvidence.Valid(NOT_AFTER));
        assertThat(check.check(NOT_AFTER.minus(Duration.ofHours(2)))).isEqualTo(new NodeEvidence.ExpiringSoon(NOT_AFTER));
        assertThat(check.check(NOT_AFTER)).isEqualTo(new NodeEvidence.Expired(NOT_AFTER));
        assertThat(check.status()).isInstanceOf(NodeEvidence.Expired.class);
    }

    @Test
    void evidenceWithoutExpiryIsNotApplicable() {
        NodeEvidenceCheck check = new NodeEvidenceCheck("join_token", Optional.empty());

        assertThat(check.check(NOT_AFTER)).isInstanceOf(NodeEvidence.NotApplicable.class);
    }
}
