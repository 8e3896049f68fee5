package dev.sigil.server.federation;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.sigil.core.bundle.JwtAuthority;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.audit.AuditQuery;
import dev.sigil.server.audit.AuditRecord;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreConfig;
import dev.sigil.server.testing.TestPki;
import dev.sigil.server.tls.TlsIdentity;
import dev.sigil.testkit.Eventually;
import dev.sigil.testkit.MutableClock;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The refresher against real HTTPS bundle endpoints (the JDK's server, serving whatever document a test
 * puts there) and the real store on SQLite: what it keeps, what it refuses and what it audits.
 */
class FederationRefreshTest {
    private static final TrustDomain REMOTE = TrustDomain.parse("remote.test");
    private static final SpiffeId ENDPOINT_ID = REMOTE.id("/sigil/server");
    private static final Duration WAIT = Duration.ofSeconds(15);

    @TempDir
    Path tmp;
    private final MutableClock clock = MutableClock.at(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
    private Datastore datastore;
    private AuditTrail audit;
    private FederationStore store;
    private TestPki remote;
    private FederationRefresher refresher;
    private HttpsServer endpoint;
    private final AtomicReference<byte[]> document = new AtomicReference<>();
    private final java.util.concurrent.CountDownLatch released = new java.util.concurrent.CountDownLatch(1);

    @BeforeEach
    void open() {
        datastore = Datastore.open(DatastoreConfig.sqlite(tmp.resolve("sigil.db")));
        audit = AuditTrail.create(datastore, clock);
        store = FederationStore.create(datastore, audit, clock);
        remote = TestPki.create(REMOTE.name(), clock.instant());
        refresher = refresher();
    }

    @AfterEach
    void close() {
        released.countDown();
        refresher.close();
        if (endpoint != null) {
            endpoint.stop(0);
        }
        datastore.close();
    }

    private FederationRefresher refresher() {
        return new FederationRefresher(store, Optional.of(List.of(remote.caCertificate())), clock, Duration.ofSeconds(1),
                Duration.ofHours(1));
    }

    @Test
    void aNewBundleIsStoredPublishedAndAuditedOnceThoughTwoServersFetchIt() throws Exception {
        serve(remote.issue(ENDPOINT_ID.toString()), bundle(REMOTE, remote.caCertificate(), 2, "key-2").toJson());
        createSpiffe(bundle(REMOTE, remote.caCertificate(), 1, "key-1"));

        refresher.tick();
        Eventually.within(WAIT, () -> assertThat(sequence()).isEqualTo(2));
        refresher.tick();
        assertThat(refresher.bundleOf(REMOTE).orElseThrow().jwtAuthority("key-2")).isPresent();
        try (FederationRefresher otherServer = refresher()) {
            otherServer.tick();
            Eventually.within(WAIT, () -> assertThat(otherServer.bundleOf(REMOTE)).isPresent());
            otherServer.tick();
            Eventually.within(WAIT, () -> assertThat(store.find(REMOTE).orElseThrow().lastRefreshAt()).isPresent());
        }

        List<AuditRecord> updates = audit("federation.bundle_updated");
        assertThat(updates).singleElement().satisfies(record -> {
            assertThat(record.subject()).isEqualTo("spiffe://remote.test");
            assertThat(details(record)).containsEntry("sequence", "2").containsEntry("jwt_key_ids", "key-2");
        });
    }

    @Test
    void anUnreachableEndpointKeepsTheLastGoodBundleAndIsAuditedOncePerFailure() throws Exception {
        serve(remote.issue(ENDPOINT_ID.toString()), bundle(REMOTE, remote.caCertificate(), 2, "key-2").toJson());
        createSpiffe(bundle(REMOTE, remote.caCertificate(), 1, "key-1"));
        refresher.tick();
        Eventually.within(WAIT, () -> assertThat(sequence()).isEqualTo(2));

        endpoint.stop(0);
        endpoint = null;
        for (int i = 0; i < 3; i++) {
            clock.advance(Duration.ofSeconds(5));
            int tick = i;
            // ticked until the attempt happens: the previous attempt records its failure before it leaves the
            // in-flight set, so a single tick right after the record could find the relationship still in flight
            Eventually.within(WAIT, () -> {
                refresher.tick();
                assertThat(store.find(REMOTE).orElseThrow().lastAttemptAt().orElseThrow()).as("attempt %d", tick).isEqualTo(clock.instant());
            });
        }

        FederationRelationship kept = store.find(REMOTE).orElseThrow();
        assertThat(kept.lastError()).get().asString().contains("cannot be reached");
        assertThat(kept.bundle().orElseThrow().sequence()).isEqualTo(2);
        refresher.tick();
        assertThat(refresher.bundleOf(REMOTE).orElseThrow().sequence()).isEqualTo(2);
        assertThat(audit("federation.refresh_failed")).singleElement()
                .satisfies(record -> assertThat(details(record)).containsEntry("kept_sequence", "2"));
    }

    @Test
    void anEndpointPresentingAnotherSpiffeIdIsRefused() throws Exception {
        serve(remote.issue("spiffe://remote.test/impostor"), bundle(REMOTE, remote.caCertificate(), 2, "key-2").toJson());
        createSpiffe(bundle(REMOTE, remote.caCertificate(), 1, "key-1"));

        refresher.tick();

        Eventually.within(WAIT, () -> assertThat(store.find(REMOTE).orElseThrow().lastError()).get().asString()
                .contains("presented spiffe id spiffe://remote.test/impostor; expected spiffe://remote.test/sigil/server"));
        assertThat(sequence()).isEqualTo(1);
    }

    @Test
    void anEndpointWhoseSvidDoesNotChainToTheCurrentBundleIsRefused() throws Exception {
        TestPki stranger = TestPki.create(REMOTE.name(), clock.instant());
        serve(stranger.issue(ENDPOINT_ID.toString()), bundle(REMOTE, stranger.caCertificate(), 2, "key-2").toJson());
        createSpiffe(bundle(REMOTE, remote.caCertificate(), 1, "key-1"));

        refresher.tick();

        Eventually.within(WAIT, () -> assertThat(store.find(REMOTE).orElseThrow().lastError()).get().asString()
                .contains("does not chain to the current bundle of remote.test"));
        assertThat(sequence()).isEqualTo(1);
    }

    @Test
    void aBundleOfAnotherTrustDomainIsRefused() throws Exception {
        TestPki other = TestPki.create("other.test", clock.instant());
        serve(remote.issue(ENDPOINT_ID.toString()), bundle(REMOTE, other.caCertificate(), 7, "key-7").toJson());
        createWeb();

        refresher.tick();

        Eventually.within(WAIT, () -> assertThat(store.find(REMOTE).orElseThrow().lastError()).get().asString()
                .contains("sent a bundle of trust domain 'other.test'").contains("expected 'remote.test'"));
        assertThat(store.find(REMOTE).orElseThrow().bundle()).isEmpty();
        assertThat(refresher.bundleOf(REMOTE)).isEmpty();
    }

    @Test
    void malformedAndOversizedDocumentsAreRefusedWithClearErrors() throws Exception {
        serve(remote.issue(ENDPOINT_ID.toString()), "{\"keys\": [ {\"use\": \"x509-svid\"");
        createWeb();
        refresher.tick();
        Eventually.within(WAIT, () -> assertThat(store.find(REMOTE).orElseThrow().lastError()).get().asString()
                .contains("sent an invalid spiffe bundle"));

        document.set(("{\"keys\": [], \"pad\": \"" + "x".repeat(BundleFetcher.MAX_DOCUMENT_BYTES) + "\"}").getBytes(StandardCharsets.UTF_8));
        clock.advance(Duration.ofSeconds(5));
        Eventually.within(WAIT, () -> {
            refresher.tick(); // again until the previous attempt has left the in-flight set
            assertThat(store.find(REMOTE).orElseThrow().lastError()).get().asString().contains("sent more than 262144 bytes");
        });
        assertThat(store.find(REMOTE).orElseThrow().bundle()).isEmpty();
        assertThat(audit("federation.refresh_failed")).hasSize(1);
    }

    @Test
    void anEndpointSendingItsBundleTooSlowlyIsCutOff() throws Exception {
        serve(remote.issue(ENDPOINT_ID.toString()), "{}");
        endpoint.removeContext("/");
        endpoint.createContext("/", exchange -> {
            exchange.sendResponseHeaders(200, 100);
            exchange.getResponseBody().write('{');
            exchange.getResponseBody().flush();
            try {
                released.await(); // the endpoint never finishes its body while the test runs
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
        });
        createWeb();
        try (FederationRefresher impatient = new FederationRefresher(store,
                new BundleFetcher(Optional.of(List.of(remote.caCertificate())), clock, Duration.ofSeconds(1)), clock,
                Duration.ofSeconds(1), Duration.ofHours(1))) {
            impatient.tick();
            Eventually.within(WAIT, () -> assertThat(store.find(REMOTE).orElseThrow().lastError()).get().asString()
                    .contains("did not send its bundle within 1000 ms"));
        }
    }

    @Test
    void anHttpsSpiffeRelationshipNeedsABundleToStartFrom() {
        FederationDraft draft = new FederationDraft(REMOTE, URI.create("https://127.0.0.1:1/"),
                new BundleEndpointProfile.HttpsSpiffe(ENDPOINT_ID), Optional.empty());

        assertThat(store.create(draft, "local:admin")).isInstanceOf(FederationStore.Change.BundleRequired.class);
        assertThat(store.list()).isEmpty();
    }

    private static java.util.Map<String, String> details(AuditRecord record) throws Exception {
        return new com.fasterxml.jackson.databind.ObjectMapper().readValue(record.details(),
                new com.fasterxml.jackson.core.type.TypeReference<java.util.Map<String, String>>() { });
    }

    private long sequence() {
        return store.find(REMOTE).orElseThrow().bundle().orElseThrow().sequence();
    }

    private List<AuditRecord> audit(String action) {
        return audit.query(AuditQuery.all().byActionPrefix(action));
    }

    private void createSpiffe(SpiffeBundle bootstrap) {
        assertThat(store.create(new FederationDraft(REMOTE, url(), new BundleEndpointProfile.HttpsSpiffe(ENDPOINT_ID),
                Optional.of(bootstrap)), "local:admin")).isInstanceOf(FederationStore.Change.Done.class);
    }

    private void createWeb() {
        assertThat(store.create(new FederationDraft(REMOTE, url(), new BundleEndpointProfile.HttpsWeb(), Optional.empty()), "local:admin"))
                .isInstanceOf(FederationStore.Change.Done.class);
    }

    private URI url() {
        return URI.create("https://localhost:" + endpoint.getAddress().getPort() + "/");
    }

    private static SpiffeBundle bundle(TrustDomain trustDomain, X509Certificate authority, long sequence, String keyId) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        return new SpiffeBundle(trustDomain, List.of(authority), List.of(new JwtAuthority(keyId, generator.generateKeyPair().getPublic())),
                sequence, Optional.of(Duration.ofSeconds(1)));
    }

    /** An HTTPS endpoint presenting {@code identity} and answering every GET with the current {@link #document}. */
    private void serve(TlsIdentity identity, String body) throws Exception {
        document.set(body.getBytes(StandardCharsets.UTF_8));
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("server", identity.privateKey(), new char[0], identity.chain().toArray(X509Certificate[]::new));
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(keys, new char[0]);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(keyManagers.getKeyManagers(), null, null);
        endpoint = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        endpoint.setHttpsConfigurator(new HttpsConfigurator(tls));
        endpoint.createContext("/", exchange -> {
            byte[] bytes = document.get();
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        endpoint.start();
    }
}
