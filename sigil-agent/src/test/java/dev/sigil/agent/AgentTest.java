package dev.sigil.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.agent.attestor.NodeAttestorClient;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.agent.testing.FakeAgentServer;
import dev.sigil.agent.testing.FakeAttestor;
import dev.sigil.agent.testing.TestCa;
import dev.sigil.agent.workload.WorkloadIdentities.JwtIdentity;
import dev.sigil.agent.workload.WorkloadIdentities.X509Identity;
import dev.sigil.core.crypto.Pem;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.testkit.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentTest {
    private static final TrustDomain TD = new TrustDomain("agent.test");
    private static final Set<Selector> WEB = Set.of(Selector.parse("unix:uid:1000"), Selector.parse("unix:gid:1000"));

    @TempDir
    Path dir;

    private final MutableClock clock = MutableClock.at(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable closeable : closeables.reversed()) {
            closeable.close();
        }
    }

    private FakeAgentServer server() {
        return server(FakeAgentServer.start(TD, clock));
    }

    private FakeAgentServer server(FakeAgentServer server) {
        closeables.add(server);
        return server;
    }

    private AgentConfig config(FakeAgentServer server, AgentConfig.TrustBootstrap bootstrap) {
        return new AgentConfig(dir.resolve("data-" + System.nanoTime()), TD, new AgentConfig.ServerAddress("127.0.0.1", server.port()), bootstrap,
                dev.sigil.agent.attestor.JoinTokenAttestorClientPlugin.choice("unused"), dir.resolve("api.sock"), Duration.ofHours(1), AgentConfig.LogLevel.INFO);
    }

    private AgentConfig.TrustBootstrap bundleFile(X509Certificate... authorities) throws Exception {
        Path file = dir.resolve("bundle-" + System.nanoTime() + ".pem");
        Files.writeString(file, Pem.encodeCertificates(List.of(authorities)));
        return new AgentConfig.TrustBootstrap.BundleFile(file);
    }

    private Agent agent(FakeAgentServer server, NodeAttestorClient attestor) throws Exception {
        Agent agent = new Agent(config(server, bundleFile(server.caCertificate())), attestor, clock);
        closeables.add(agent);
        return agent;
    }

    private Agent started(FakeAgentServer server, NodeAttestorClient attestor) throws Exception {
        Agent agent = agent(server, attestor);
        agent.start();
        return agent;
    }

    @Test
    void attestsWithAChallengeRoundTripAndHoldsTheAgentSvid() throws Exception {
        FakeAgentServer server = server();
        FakeAttestor attestor = FakeAttestor.proofOfPossession("node-1");

        Agent agent = started(server, attestor);

        assertThat(attestor.challengesAnswered).hasValue(1);
        assertThat(server.attestations).hasValue(1);
        assertThat(agent.state()).isInstanceOf(AgentState.Running.class);
        assertThat(agent.svid()).get().extracting(svid -> svid.spiffeId().toString())
                .isEqualTo("spiffe://agent.test/sigil/agent/fake_pop/node-1");
        assertThat(agent.identities().synced()).isTrue();
        assertThat(agent.identities().bundles().own().x509Authorities()).containsExactly(server.caCertificate());
        assertThat(server.lastClientCertificate.get()).isEqualTo(agent.svid().orElseThrow().leaf());
    }

    /** A loopback port where nothing listens (bound, noted, closed). */
    private static int closedPort() throws Exception {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private Agent startedWithAddresses(FakeAgentServer trusted, NodeAttestorClient attestor, int... ports) throws Exception {
        AgentConfig one = config(trusted, bundleFile(trusted.caCertificate()));
        List<AgentConfig.ServerAddress> addresses = java.util.Arrays.stream(ports)
                .mapToObj(port -> new AgentConfig.ServerAddress("127.0.0.1", port)).toList();
        Agent agent = new Agent(new AgentConfig(one.dataDir(), one.trustDomain(), addresses, one.bootstrap(), one.nodeAttestor(),
                one.workloadApiSocket(), one.syncInterval(), one.logLevel(), one.workloadReattestInterval(), one.workloadAttestors()),
                attestor, clock);
        closeables.add(agent);
        agent.start();
        return agent;
    }

    @Test
    void aDeadFirstServerAddressFailsOverToTheNextOne() throws Exception {
        FakeAgentServer server = server();

        Agent agent = startedWithAddresses(server, FakeAttestor.proofOfPossession("node-1"), closedPort(), server.port());

        assertThat(agent.state()).isInstanceOf(AgentState.Running.class);
        assertThat(server.attestations).hasValue(1);
        assertThat(agent.identities().synced()).isTrue();
    }

    @Test
    void everyListedAddressIsAuthenticatedAndAnImpostorIsPassedOver() throws Exception {
        FakeAgentServer impostor = server(FakeAgentServer.start(TD, clock, "spiffe://agent.test/workload/web"));
        FakeAgentServer server = server();

        Agent agent = startedWithAddresses(server, FakeAttestor.proofOfPossession("node-1"), impostor.port(), server.port());

        assertThat(impostor.attestations).as("the impostor never got the attestation").hasValue(0);
        assertThat(server.attestations).hasValue(1);
        assertThat(agent.state()).isInstanceOf(AgentState.Running.class);
    }

    @Test
    void refusesAServerWhoseUriSanIsNotTheServerId() throws Exception {
        FakeAgentServer impostor = server(FakeAgentServer.start(TD, clock, "spiffe://agent.test/workload/web"));

        Agent agent = agent(impostor, FakeAttestor.proofOfPossession("node-1"));

        assertThatThrownBy(agent::start).isInstanceOf(AgentException.class)
                .hasMessageContaining("uri san 'spiffe://agent.test/workload/web'").hasMessageContaining("spiffe://agent.test/sigil/server");
        assertThat(impostor.attestations).hasValue(0);
        assertThat(agent.state()).isInstanceOf(AgentState.Stopped.class);
    }

    @Test
    void refusesAServerWhoseChainIsNotInTheTrustBundle() throws Exception {
        FakeAgentServer server = server();
        TestCa other = new TestCa("agent.test", clock.instant());
        Agent agent = new Agent(config(server, bundleFile(other.certificate())), FakeAttestor.proofOfPossession("node-1"), clock);
        closeables.add(agent);

        assertThatThrownBy(agent::start).isInstanceOf(AgentException.class).hasMessageContaining("does not chain to the trust bundle");
        assertThat(server.attestations).hasValue(0);
    }

    @Test
    void insecureBootstrapTrustsTheFirstServerWithTheServerIdAndThenItsBundle() throws Exception {
        FakeAgentServer server = server();
        Agent agent = new Agent(config(server, new AgentConfig.TrustBootstrap.Insecure()), FakeAttestor.proofOfPossession("node-1"), clock);
        closeables.add(agent);

        agent.start();

        assertThat(agent.state()).isInstanceOf(AgentState.Running.class);
        assertThat(server.attestations).hasValue(1);
    }

    @Test
    void aMissingJwtTokenFileStopsTheStartNamingTheFileAndSendsNothing() throws Exception {
        FakeAgentServer server = server();
        Path missing = dir.resolve("tokens/sigil-agent");
        Agent agent = agent(server, new dev.sigil.agent.attestor.JwtAttestorClient(missing));

        assertThatThrownBy(agent::start).isInstanceOf(AgentException.class)
                .hasMessageContaining("jwt token file " + missing + " does not exist");
        assertThat(server.attestations).hasValue(0);
        assertThat(agent.state()).isInstanceOf(AgentState.Stopped.class);
    }

    @Test
    void insecureBootstrapStillRefusesAServerWithTheWrongId() throws Exception {
        FakeAgentServer impostor = server(FakeAgentServer.start(TD, clock, "spiffe://agent.test/not-the-server"));
        Agent agent = new Agent(config(impostor, new AgentConfig.TrustBootstrap.Insecure()), FakeAttestor.proofOfPossession("node-1"), clock);
        closeables.add(agent);

        assertThatThrownBy(agent::start).isInstanceOf(AgentException.class);
        assertThat(impostor.attestations).hasValue(0);
    }

    @Test
    void renewsTheAgentSvidAroundHalfItsLifetimeAndPresentsTheNewOne() throws Exception {
        FakeAgentServer server = server();
        Agent agent = started(server, FakeAttestor.proofOfPossession("node-1"));
        X509Certificate first = agent.svid().orElseThrow().leaf();

        clock.advance(Duration.ofMinutes(23)); // 38% of the hour: before the earliest renewal (40%)
        agent.tick();
        assertThat(server.renewals).hasValue(0);

        clock.advance(Duration.ofMinutes(14)); // 61%: past the latest renewal (60%)
        agent.tick();

        assertThat(server.renewals).hasValue(1);
        X509Certificate renewed = agent.svid().orElseThrow().leaf();
        assertThat(renewed).isNotEqualTo(first);
        assertThat(renewed.getPublicKey()).isNotEqualTo(first.getPublicKey());
        assertThat(server.lastClientCertificate.get()).isEqualTo(renewed);
    }

    @Test
    void renewalTimeIsHalfTheLifetimeMovedByTheJitter() {
        Instant start = Instant.parse("2026-01-01T00:00:00Z");
        Instant end = start.plus(Duration.ofHours(1));

        assertThat(Agent.renewalTime(start, end, 0)).isEqualTo(start.plus(Duration.ofMinutes(30)));
        assertThat(Agent.renewalTime(start, end, 0.1)).isEqualTo(start.plus(Duration.ofMinutes(36)));
        assertThat(Agent.renewalTime(start, end, -0.1)).isEqualTo(start.plus(Duration.ofMinutes(24)));
    }

    @Test
    void syncAddsChangesAndRemovesEntriesAndTheirIdentities() throws Exception {
        FakeAgentServer server = server();
        server.pageSize = 2;
        Agent agent = started(server, FakeAttestor.proofOfPossession("node-1"));
        AtomicInteger changes = new AtomicInteger();
        agent.identities().onChange(changes::incrementAndGet);
        for (int i = 1; i <= 5; i++) {
            server.putEntry("e" + i, "spiffe://agent.test/svc/" + i, Duration.ofMinutes(10), "unix:uid:" + (1000 + i));
        }

        agent.tick();

        assertThat(agent.cache().entryCount()).isEqualTo(5);
        assertThat(agent.cache().identityCount()).isEqualTo(5);
        assertThat(agent.cache().lastSyncRevision()).isEqualTo(5);
        assertThat(changes.get()).isPositive();
        assertThat(ids(agent.identities().x509Svids(Set.of(Selector.parse("unix:uid:1003"))))).containsExactly("spiffe://agent.test/svc/3");

        changes.set(0);
        server.putEntry("e3", "spiffe://agent.test/svc/three", Duration.ofMinutes(10), "unix:uid:1003");
        server.removeEntry("e4");
        agent.tick();

        assertThat(changes.get()).isPositive();
        assertThat(agent.cache().entryCount()).isEqualTo(4);
        assertThat(agent.cache().identityCount()).isEqualTo(4);
        assertThat(ids(agent.identities().x509Svids(Set.of(Selector.parse("unix:uid:1003"))))).containsExactly("spiffe://agent.test/svc/three");
        assertThat(agent.identities().x509Svids(Set.of(Selector.parse("unix:uid:1004")))).isEmpty();
    }

    @Test
    void aFullStateSyncDropsEntriesTheServerNoLongerLists() throws Exception {
        FakeAgentServer server = server();
        server.putEntry("web", "spiffe://agent.test/web", Duration.ofMinutes(10), "unix:uid:1000");
        server.putEntry("db", "spiffe://agent.test/db", Duration.ofMinutes(10), "unix:uid:1000");
        Agent agent = started(server, FakeAttestor.proofOfPossession("node-1"));
        assertThat(agent.cache().identityCount()).isEqualTo(2);

        server.forgetEntry("db");
        server.fullStateNext = true;
        agent.tick();

        assertThat(ids(agent.identities().x509Svids(WEB))).containsExactly("spiffe://agent.test/web");
        assertThat(agent.cache().entryCount()).isEqualTo(1);
        assertThat(agent.cache().identityCount()).isEqualTo(1);
    }

    @Test
    void aWorkloadGetsTheEntriesWhoseSelectorsAreASubsetOfItsOwn() throws Exception {
        FakeAgentServer server = server();
        server.putEntry("web", "spiffe://agent.test/web", Duration.ofMinutes(10), "unix:uid:1000");
        server.putEntry("web-admin", "spiffe://agent.test/web-admin", Duration.ofMinutes(10), "unix:uid:1000", "unix:gid:1000");
        server.putEntry("strict", "spiffe://agent.test/strict", Duration.ofMinutes(10), "unix:uid:1000", "unix:gid:0");
        Agent agent = started(server, FakeAttestor.proofOfPossession("node-1"));

        List<X509Identity> svids = agent.identities().x509Svids(WEB);

        assertThat(ids(svids)).containsExactly("spiffe://agent.test/web", "spiffe://agent.test/web-admin");
        assertThat(agent.identities().x509Svids(Set.of(Selector.parse("unix:gid:1000")))).isEmpty();
        assertThat(agent.identities().x509Svids(Set.of())).isEmpty();
    }

    @Test
    void workloadKeysAreMadeOnTheAgentAndPairWithTheirCertificates() throws Exception {
        FakeAgentServer server = server();
        server.putEntry("web", "spiffe://agent.test/web", Duration.ofMinutes(10), "unix:uid:1000");
        Agent agent = started(server, FakeAttestor.proofOfPossession("node-1"));

        X509Identity identity = agent.identities().x509Svids(WEB).getFirst();

        PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(identity.privateKeyPkcs8()));
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(key);
        signer.update(new byte[] {1, 2, 3});
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(identity.chain().getFirst());
        verifier.update(new byte[] {1, 2, 3});
        assertThat(verifier.verify(signature)).isTrue();
        assertThat(identity.toString()).contains("<redacted>").doesNotContain(java.util.Base64.getEncoder().encodeToString(identity.privateKeyPkcs8()));
    }

    @Test
    void workloadSvidsRotateAtHalfTheirLifetime() throws Exception {
        FakeAgentServer server = server();
        server.putEntry("web", "spiffe://agent.test/web", Duration.ofMinutes(10), "unix:uid:1000");
        Agent agent = started(server, FakeAttestor.proofOfPossession("node-1"));
        X509Certificate first = agent.identities().x509Svids(WEB).getFirst().chain().getFirst();
        AtomicInteger changes = new AtomicInteger();
        agent.identities().onChange(changes::incrementAndGet);

        clock.advance(Duration.ofMinutes(4));
        agent.tick();
        assertThat(agent.identities().x509Svids(WEB).getFirst().chain().getFirst()).isEqualTo(first);

        clock.advance(Duration.ofMinutes(1));
        agent.tick();

        X509Certificate rotated = agent.identities().x509Svids(WEB).getFirst().chain().getFirst();
        assertThat(rotated).isNotEqualTo(first);
        assertThat(rotated.getPublicKey()).isNotEqualTo(first.getPublicKey());
        assertThat(changes.get()).isPositive();
        assertThat(server.signedSvids).hasValue(2);
    }

    @Test
    void jwtSvidsAreCachedUntilHalfTheirLifetime() throws Exception {
        FakeAgentServer server = server();
        server.putEntry("web", "spiffe://agent.test/web", Duration.ofMinutes(10), "unix:uid:1000");
        Agent agent = started(server, FakeAttestor.proofOfPossession("node-1"));

        List<JwtIdentity> first = agent.identities().jwtSvids(WEB, List.of("b", "a"), Optional.empty());
        List<JwtIdentity> again = agent.identities().jwtSvids(WEB, List.of("a", "b"), Optional.empty());

        assertThat(server.jwtMints).hasValue(1);
        assertThat(again).extracting(JwtIdentity::token).isEqualTo(first.stream().map(JwtIdentity::token).toList());
        assertThat(first.getFirst().spiffeId()).isEqualTo(SpiffeId.parse("spiffe://agent.test/web"));

        clock.advance(Duration.ofSeconds(151)); // the fake's tokens live 300 s
        List<JwtIdentity> later = agent.identities().jwtSvids(WEB, List.of("a", "b"), Optional.empty());

        assertThat(server.jwtMints).hasValue(2);
        assertThat(later.getFirst().token()).isNotEqualTo(first.getFirst().token());
        assertThat(agent.identities().jwtSvids(WEB, List.of("a"), Optional.of(SpiffeId.parse("spiffe://agent.test/other")))).isEmpty();
    }

    @Test
    void anEvictedAgentWithAReusableAttestorAttestsAgain() throws Exception {
        FakeAgentServer server = server();
        FakeAttestor attestor = FakeAttestor.proofOfPossession("node-1");
        server.putEntry("web", "spiffe://agent.test/web", Duration.ofMinutes(10), "unix:uid:1000");
        Agent agent = started(server, attestor);

        server.refuseNextCall = true;
        agent.tick();

        assertThat(server.attestations).hasValue(2);
        assertThat(attestor.challengesAnswered).hasValue(2);
        assertThat(agent.state()).isInstanceOf(AgentState.Running.class);
        assertThat(agent.identities().x509Svids(WEB)).hasSize(1);
    }

    @Test
    void anAgentRefusedAgainAfterReattestationStops() throws Exception {
        FakeAgentServer server = server();
        Agent agent = started(server, FakeAttestor.proofOfPossession("node-1"));

        server.refuseNextCall = true;
        server.refuseAttestation = true;
        agent.tick();

        assertThat(agent.state()).isInstanceOfSatisfying(AgentState.Stopped.class,
                stopped -> assertThat(stopped.reason()).contains("re-attestation was refused"));
    }

    @Test
    void anEvictedJoinTokenAgentStopsAndAsksForANewToken() throws Exception {
        FakeAgentServer server = server();
        Agent agent = started(server, FakeAttestor.joinToken("token-1"));

        server.refuseNextCall = true;
        agent.tick();

        assertThat(server.attestations).hasValue(1);
        assertThat(agent.state()).isInstanceOfSatisfying(AgentState.Stopped.class,
                stopped -> assertThat(stopped.reason()).contains("join token").contains("single-use").contains("sigil token generate"));
        assertThat(agent.svid()).isEmpty();
    }

    @Test
    void aUsedJoinTokenFailsStartWithAClearMessage() throws Exception {
        FakeAgentServer server = server();
        started(server, FakeAttestor.joinToken("token-1"));
        Agent second = agent(server, FakeAttestor.joinToken("token-1"));

        assertThatThrownBy(second::start).isInstanceOf(AgentException.class)
                .hasMessageContaining("permission_denied").hasMessageContaining("generate a new one");
    }

    @Test
    void anExpiredAgentSvidLeadsToReattestation() throws Exception {
        FakeAgentServer server = server();
        server.agentTtl = Duration.ofMinutes(10);
        Agent agent = started(server, FakeAttestor.proofOfPossession("node-1"));

        clock.advance(Duration.ofMinutes(11));
        agent.tick();

        assertThat(server.attestations).hasValue(2);
        assertThat(agent.state()).isInstanceOf(AgentState.Running.class);
        assertThat(agent.svid().orElseThrow().notAfter()).isAfter(clock.instant());
    }

    @Test
    void aNewBundleSequenceReachesTheWorkloadApi() throws Exception {
        FakeAgentServer server = server();
        Agent agent = started(server, FakeAttestor.proofOfPossession("node-1"));
        long before = agent.identities().bundles().own().sequence();
        AtomicInteger changes = new AtomicInteger();
        agent.identities().onChange(changes::incrementAndGet);

        server.bumpBundle();
        agent.tick();

        assertThat(agent.identities().bundles().own().sequence()).isEqualTo(before + 1);
        assertThat(changes.get()).isPositive();
    }

    @Test
    void aRestartedAgentResumesWithItsStoredSvidWithoutAttestingAgain() throws Exception {
        FakeAgentServer server = server();
        server.putEntry("web", "spiffe://agent.test/web", Duration.ofMinutes(10), "unix:uid:1000");
        AgentConfig config = config(server, bundleFile(server.caCertificate()));
        Agent first = new Agent(config, FakeAttestor.joinToken("token-1"), clock);
        first.start();
        SpiffeId agentId = first.svid().orElseThrow().spiffeId();
        first.close();

        Path stored = config.dataDir().resolve("agent-svid.json");
        assertThat(Files.getPosixFilePermissions(stored)).containsExactlyInAnyOrder(
                java.nio.file.attribute.PosixFilePermission.OWNER_READ, java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);

        Agent second = new Agent(config, FakeAttestor.joinToken("token-1"), clock);
        closeables.add(second);
        second.start();

        assertThat(server.attestations).hasValue(1);
        assertThat(second.svid().orElseThrow().spiffeId()).isEqualTo(agentId);
        assertThat(second.identities().x509Svids(WEB)).hasSize(1);
    }

    @Test
    void aStoredSvidThatExpiredIsNotReused() throws Exception {
        FakeAgentServer server = server();
        server.agentTtl = Duration.ofMinutes(10);
        AgentConfig config = config(server, bundleFile(server.caCertificate()));
        Agent first = new Agent(config, FakeAttestor.proofOfPossession("node-1"), clock);
        first.start();
        first.close();

        clock.advance(Duration.ofMinutes(11));
        Agent second = new Agent(config, FakeAttestor.proofOfPossession("node-1"), clock);
        closeables.add(second);
        second.start();

        assertThat(server.attestations).hasValue(2);
        assertThat(second.state()).isInstanceOf(AgentState.Running.class);
    }

    @Test
    void aStoredSvidReadableByOthersIsNotReused() throws Exception {
        FakeAgentServer server = server();
        AgentConfig config = config(server, bundleFile(server.caCertificate()));
        Agent first = new Agent(config, FakeAttestor.proofOfPossession("node-1"), clock);
        first.start();
        first.close();
        Files.setPosixFilePermissions(config.dataDir().resolve("agent-svid.json"),
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));

        Agent second = new Agent(config, FakeAttestor.proofOfPossession("node-1"), clock);
        closeables.add(second);
        second.start();

        assertThat(server.attestations).hasValue(2);
    }

    @Test
    void aStoppedAgentDeletesItsStoredSvid() throws Exception {
        FakeAgentServer server = server();
        AgentConfig config = config(server, bundleFile(server.caCertificate()));
        Agent agent = new Agent(config, FakeAttestor.joinToken("token-9"), clock);
        closeables.add(agent);
        agent.start();
        assertThat(config.dataDir().resolve("agent-svid.json")).exists();

        server.refuseNextCall = true;
        agent.tick();

        assertThat(agent.state()).isInstanceOf(AgentState.Stopped.class);
        assertThat(config.dataDir().resolve("agent-svid.json")).doesNotExist();
    }

    @Test
    void aRestartedJoinTokenAgentWhoseStoredSvidIsRefusedFailsToStart() throws Exception {
        FakeAgentServer server = server();
        AgentConfig config = config(server, bundleFile(server.caCertificate()));
        Agent first = new Agent(config, FakeAttestor.joinToken("token-2"), clock);
        first.start();
        first.close();

        server.refuseNextCall = true;
        Agent second = new Agent(config, FakeAttestor.joinToken("token-2"), clock);
        closeables.add(second);

        assertThatThrownBy(second::start).isInstanceOf(AgentException.class).hasMessageContaining("generate a new token");
        assertThat(config.dataDir().resolve("agent-svid.json")).doesNotExist();
    }

    @Test
    void anUnreachableServerDuringReattestationLeavesTheAgentRunningToRetry() throws Exception {
        FakeAgentServer server = server();
        Agent agent = started(server, FakeAttestor.proofOfPossession("node-1"));
        server.agentTtl = Duration.ofMinutes(1);

        clock.advance(Duration.ofHours(2)); // the agent svid has expired
        server.close();
        agent.tick();

        assertThat(agent.state()).isInstanceOf(AgentState.Running.class);
    }

    private static List<String> ids(List<X509Identity> identities) {
        return identities.stream().map(identity -> identity.spiffeId().toString()).toList();
    }
}
