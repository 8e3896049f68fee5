package dev.sigil.server.credential.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.policy.Decision;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PostgresBrokerCommentTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SpiffeId HOLDER = SpiffeId.parse("spiffe://sigil.test/billing/report-job");
    private static final SpiffeId CALLER = SpiffeId.parse("spiffe://sigil.test/agents/planner");
    private static final Instant ISSUED = Instant.parse("2026-12-06T02:00:00Z");

    @Test
    void aTaskWithQuotesBackslashesAndControlCharactersStaysOneJsonString() throws Exception {
        String task = "it's \"quoted\" \\ back\u0000slash\u0007\n\u2028 ünï";
        LeaseGrant lease = lease(Optional.of(task), List.of(CALLER, HOLDER));

        String comment = PostgresBroker.comment(lease);

        ObjectNode expected = JSON.createObjectNode().put("sigil_lease", lease.id().value()).put("broker", "postgresql")
                .put("holder", HOLDER.toString()).put("resource", "reports").put("issued_at", ISSUED.toString())
                .put("expires_at", ISSUED.plusSeconds(300).toString()).put("task", task);
        expected.putArray("delegation").add(CALLER.toString()).add(HOLDER.toString());
        assertThat(JSON.readTree(comment)).isEqualTo(expected);
        assertThat(comment).as("the same text the tree serialiser wrote").isEqualTo(JSON.writeValueAsString(expected));
    }

    @Test
    void withoutTaskOrDelegationTheCommentHasNoTaskAndAnEmptyChain() throws Exception {
        String comment = PostgresBroker.comment(lease(Optional.empty(), List.of()));

        assertThat(JSON.readTree(comment).has("task")).isFalse();
        assertThat(JSON.readTree(comment).get("delegation").isEmpty()).isTrue();
        assertThat(JSON.readTree(comment).get("holder").asText()).isEqualTo(HOLDER.toString());
    }

    private static LeaseGrant lease(Optional<String> task, List<SpiffeId> delegation) {
        return new LeaseGrant(LeaseId.random(), "postgresql", HOLDER, task, "reports", ISSUED, ISSUED.plusSeconds(300), delegation,
                Decision.Obligations.none(), Map.of());
    }
}
