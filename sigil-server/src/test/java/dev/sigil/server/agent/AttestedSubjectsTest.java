package dev.sigil.server.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreConfig;
import dev.sigil.server.registration.EntryDraft;
import dev.sigil.server.registration.EntryStore;
import dev.sigil.server.evidence.SubjectEvidence.Evidence;
import dev.sigil.testkit.MutableClock;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AttestedSubjectsTest {
    private static final SpiffeId WEB = SpiffeId.parse("spiffe://example.org/web");
    private static final SpiffeId STRONG_NODE = SpiffeId.parse("spiffe://example.org/sigil/agent/x509pop/aa");
    private static final SpiffeId WEAK_NODE = SpiffeId.parse("spiffe://example.org/sigil/agent/join_token/bb");

    @TempDir
    Path dir;
    private Datastore datastore;
    private EntryStore entries;
    private AgentStore agents;
    private AttestedSubjects evidence;

    @BeforeEach
    void open() {
        MutableClock clock = MutableClock.atEpochOfTests();
        datastore = Datastore.open(DatastoreConfig.sqlite(dir.resolve("sigil.db")));
        AuditTrail audit = AuditTrail.create(datastore, clock);
        entries = EntryStore.create(datastore, audit, clock);
        agents = AgentStore.create(datastore, audit, clock);
        evidence = new AttestedSubjects(entries, agents);
        attest(STRONG_NODE, "x509pop", 2, Selector.parse("x509pop:subject:cn:node-a"));
        attest(WEAK_NODE, "join_token", 1, Selector.parse("join_token:id:bb"));
    }

    @AfterEach
    void close() {
        datastore.close();
    }

    private void attest(SpiffeId agent, String attestor, int level, Selector selector) {
        agents.recordAttestation(new AgentStore.Attestation(agent, attestor, List.of(selector), level, BigInteger.ONE,
                MutableClock.atEpochOfTests().instant().plus(Duration.ofHours(1))), "test");
    }

    private void register(SpiffeId parent, String... selectors) {
        entries.create(EntryDraft.of(WEB, parent, java.util.Arrays.stream(selectors).map(Selector::parse).toList(), "team"), "test");
    }

    @Test
    void identityIssuedUnderOneAgentCarriesItsWorkloadAndNodeSelectorsAndTrustLevel() {
        register(STRONG_NODE, "unix:uid:1000");

        Evidence found = evidence.of(WEB);

        assertThat(found.trustLevel()).isEqualTo(2);
        assertThat(found.selectors()).containsExactlyInAnyOrder(Selector.parse("unix:uid:1000"),
                Selector.parse("x509pop:subject:cn:node-a"));
        assertThat(found.attestedAt()).isPresent();
    }

    @Test
    void identityReachableFromAWeakNodeGetsTheWeakLevelAndOnlySharedSelectors() {
        register(STRONG_NODE, "unix:uid:1000");
        register(WEAK_NODE, "unix:uid:1000", "unix:gid:0");

        Evidence found = evidence.of(WEB);

        assertThat(found.trustLevel()).isEqualTo(1);
        assertThat(found.selectors()).containsExactly(Selector.parse("unix:uid:1000"));
    }

    @Test
    void aWorkloadPickedOutOnlyByCgroupSelectorsRatesBelowItsStrongNode() {
        register(STRONG_NODE, "cgroup:container_id:" + "c".repeat(64));

        Evidence found = evidence.of(WEB);

        assertThat(found.trustLevel()).isEqualTo(1);
        assertThat(found.trustBasis()).contains("(x509pop) level 2, workload (cgroup selectors) level 1");
    }

    @Test
    void theStrongestWorkloadAttestorAnEntryRequiresSetsItsWorkloadLevel() {
        register(STRONG_NODE, "cgroup:container_id:" + "c".repeat(64), "k8s:ns:payments");

        assertThat(evidence.of(WEB).trustLevel()).isEqualTo(2);
    }

    @Test
    void identityWithoutALiveAttestationHasNoEvidence() {
        assertThat(evidence.of(WEB)).isEqualTo(Evidence.none());

        register(STRONG_NODE, "unix:uid:1000");
        agents.ban(STRONG_NODE, "test");

        assertThat(evidence.of(WEB)).isEqualTo(Evidence.none());
    }
}
