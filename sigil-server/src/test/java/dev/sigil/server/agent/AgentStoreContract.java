package dev.sigil.server.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditOutcome;
import dev.sigil.server.audit.AuditQuery;
import dev.sigil.server.audit.AuditRecord;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.DatastoreContract;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the agents registry guarantees on every datastore dialect. */
abstract class AgentStoreContract extends DatastoreContract {
    static final SpiffeId NODE = SpiffeId.parse("spiffe://example.org/sigil/agent/x509pop/abc");
    static final SpiffeId OTHER = SpiffeId.parse("spiffe://example.org/sigil/agent/join_token/def");
    protected AuditTrail audit;
    protected AgentStore store;

    @BeforeEach
    void createStore() {
        audit = AuditTrail.create(datastore, clock);
        store = AgentStore.create(datastore, audit, clock);
    }

    private AgentStore.Attestation attestation(SpiffeId id, long serial, String... selectors) {
        return new AgentStore.Attestation(id, "x509pop", java.util.Arrays.stream(selectors).map(Selector::parse).toList(), 2,
                BigInteger.valueOf(serial), clock.instant().plus(Duration.ofHours(1)));
    }

    @Test
    void firstAttestationRegistersTheAgentWithItsSvid() {
        AgentStore.Recording recording = store.recordAttestation(attestation(NODE, 0xabc, "x509pop:subject:cn:n1"), "10.0.0.1");

        Agent agent = ((AgentStore.Recording.Recorded) recording).agent();
        assertThat(agent.svidSerial()).isEqualTo("abc");
        assertThat(agent.selectors()).containsExactly(Selector.parse("x509pop:subject:cn:n1"));
        assertThat(agent.firstAttestedAt()).isEqualTo(clock.instant()).isEqualTo(agent.lastAttestedAt());
        assertThat(agent.banned()).isFalse();
        assertThat(store.find(NODE)).contains(agent);
        assertThat(lastRecord().action()).isEqualTo("agent.attest");
    }

    @Test
    void reattestationReplacesSelectorsAndSerialButKeepsFirstAttested() {
        Agent first = ((AgentStore.Recording.Recorded) store.recordAttestation(attestation(NODE, 1, "x509pop:a:1"), "n")).agent();
        clock.advance(Duration.ofMinutes(5));

        Agent second = ((AgentStore.Recording.Recorded) store.recordAttestation(attestation(NODE, 2, "x509pop:a:2"), "n")).agent();

        assertThat(second.firstAttestedAt()).isEqualTo(first.firstAttestedAt());
        assertThat(second.lastAttestedAt()).isEqualTo(clock.instant());
        assertThat(second.selectors()).containsExactly(Selector.parse("x509pop:a:2"));
        assertThat(second.revision()).isGreaterThan(first.revision());
        assertThat(store.find(NODE)).contains(second);
    }

    @Test
    void renewalRecordsTheNewSerial() {
        store.recordAttestation(attestation(NODE, 1), "n");

        assertThat(store.recordRenewal(NODE, BigInteger.valueOf(0xff), clock.instant().plus(Duration.ofHours(2)), "n"))
                .hasValueSatisfying(agent -> assertThat(agent.svidSerial()).isEqualTo("ff"));
        assertThat(store.find(NODE).orElseThrow().svidSerial()).isEqualTo("ff");
        assertThat(lastRecord().action()).isEqualTo("agent.renew");
    }

    @Test
    void bannedAgentCannotReattestNorRenewUntilEvicted() {
        store.recordAttestation(attestation(NODE, 1), "n");

        assertThat(store.ban(NODE, "alice")).hasValueSatisfying(agent -> assertThat(agent.banned()).isTrue());
        assertThat(lastRecord().action()).isEqualTo("agent.ban");

        assertThat(store.recordAttestation(attestation(NODE, 2), "n")).isInstanceOf(AgentStore.Recording.Banned.class);
        AuditRecord refused = lastRecord();
        assertThat(refused.action()).isEqualTo("agent.attest");
        assertThat(refused.outcome()).isEqualTo(AuditOutcome.DENIED);
        assertThat(store.recordRenewal(NODE, BigInteger.TEN, clock.instant().plus(Duration.ofHours(1)), "n")).isEmpty();
        assertThat(store.find(NODE).orElseThrow().svidSerial()).isEqualTo("1");

        assertThat(store.evict(NODE, "alice")).isPresent();
        assertThat(store.recordAttestation(attestation(NODE, 3), "n")).isInstanceOf(AgentStore.Recording.Recorded.class);
    }

    @Test
    void evictionDeletesTheAgentAndIsAudited() {
        store.recordAttestation(attestation(NODE, 1), "n");
        store.recordAttestation(attestation(OTHER, 2), "n");

        assertThat(store.evict(NODE, "alice")).isPresent();

        assertThat(store.find(NODE)).isEmpty();
        assertThat(store.list()).extracting(Agent::spiffeId).containsExactly(OTHER);
        assertThat(lastRecord().action()).isEqualTo("agent.evict");
        assertThat(lastRecord().actor()).isEqualTo("alice");
        assertThat(store.evict(NODE, "alice")).isEmpty();
    }

    @Test
    void unknownAgentCannotBeBannedOrRenewed() {
        assertThat(store.ban(NODE, "alice")).isEmpty();
        assertThat(store.recordRenewal(NODE, BigInteger.ONE, clock.instant(), "n")).isEmpty();
        assertThat(audit.query(AuditQuery.all())).isEmpty();
    }

    @Test
    void listIsOrderedBySpiffeId() {
        store.recordAttestation(attestation(NODE, 1), "n");
        store.recordAttestation(attestation(OTHER, 2), "n");

        assertThat(store.list()).extracting(Agent::spiffeId).containsExactly(OTHER, NODE);
        assertThat(audit.verify()).isInstanceOf(dev.sigil.server.audit.AuditVerification.Intact.class);
    }

    @Test
    void listBannedHasOnlyBannedAgents() {
        store.recordAttestation(attestation(NODE, 1), "n");
        store.recordAttestation(attestation(OTHER, 2), "n");
        assertThat(store.listBanned()).isEmpty();

        store.ban(NODE, "alice");

        assertThat(store.listBanned()).extracting(Agent::spiffeId).containsExactly(NODE);
    }

    private AuditRecord lastRecord() {
        List<AuditRecord> records = audit.query(AuditQuery.all());
        return records.get(records.size() - 1);
    }
}
