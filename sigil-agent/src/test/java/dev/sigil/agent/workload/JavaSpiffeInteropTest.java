package dev.sigil.agent.workload;

import dev.sigil.testkit.Eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.agent.workload.FakeWorkloadIdentities.Entry;
import io.spiffe.bundle.jwtbundle.JwtBundleSet;
import io.spiffe.bundle.x509bundle.X509BundleSet;
import io.spiffe.spiffeid.TrustDomain;
import io.spiffe.svid.jwtsvid.JwtSvid;
import io.spiffe.svid.x509svid.X509Svid;
import io.spiffe.workloadapi.DefaultJwtSource;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.DefaultX509Source;
import io.spiffe.workloadapi.JwtSource;
import io.spiffe.workloadapi.JwtSourceOptions;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.X509Context;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** java-spiffe, an independent SPIFFE client, works against the Workload API unchanged. */
class JavaSpiffeInteropTest {
    @TempDir
    Path dir;

    private WorkloadApiFixture fixture;
    private final TestTrustDomain federated = new TestTrustDomain("partner.test");

    @BeforeEach
    void start() {
        fixture = WorkloadApiFixture.real(dir);
        fixture.identities.setFederated(Map.of(federated.domain, federated.bundle()));
        fixture.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid()),
                fixture.domain.x509("/billing", Set.of(federated.domain))));
    }

    @AfterEach
    void stop() {
        fixture.close();
    }

    private WorkloadApiClient client() throws Exception {
        return DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions.builder()
                .spiffeSocketPath(fixture.socketUri()).build());
    }

    @Test
    void javaSpiffeFetchesTheCallersX509SvidAndBundles() throws Exception {
        try (WorkloadApiClient client = client()) {
            X509Context context = client.fetchX509Context();

            X509Svid svid = context.getDefaultSvid();
            assertThat(svid.getSpiffeId().toString()).isEqualTo("spiffe://example.org/billing");
            assertThat(svid.getChain()).hasSize(1);
            X509BundleSet bundles = context.getX509BundleSet();
            assertThat(bundles.getBundleForTrustDomain(TrustDomain.parse("example.org")).getX509Authorities())
                    .containsExactly(fixture.domain.ca);
            assertThat(bundles.getBundleForTrustDomain(TrustDomain.parse("partner.test")).getX509Authorities())
                    .containsExactly(federated.ca);

            X509BundleSet onlyBundles = client.fetchX509Bundles();
            assertThat(onlyBundles.getBundles()).containsOnlyKeys(TrustDomain.parse("example.org"), TrustDomain.parse("partner.test"));
        }
    }

    @Test
    void javaSpiffeFetchesAndValidatesJwtSvids() throws Exception {
        try (WorkloadApiClient client = client()) {
            JwtSvid svid = client.fetchJwtSvid("payments", "audit");
            assertThat(svid.getSpiffeId().toString()).isEqualTo("spiffe://example.org/billing");
            assertThat(svid.getAudience()).containsExactlyInAnyOrder("payments", "audit");

            JwtSvid validated = client.validateJwtSvid(svid.getToken(), "payments");
            assertThat(validated.getSpiffeId()).isEqualTo(svid.getSpiffeId());

            JwtBundleSet bundles = client.fetchJwtBundles();
            assertThat(bundles.getBundleForTrustDomain(TrustDomain.parse("example.org")).getJwtAuthorities())
                    .containsKey(fixture.domain.jwtKeyId);
        }
        try (JwtSource source = DefaultJwtSource.newSource(JwtSourceOptions.builder()
                .spiffeSocketPath(fixture.socketUri()).initTimeout(Duration.ofSeconds(10)).build())) {
            JwtSvid svid = source.fetchJwtSvid("payments");
            // java-spiffe validates it offline against the bundle it streamed from us
            JwtSvid checked = JwtSvid.parseAndValidate(svid.getToken(), source, Set.of("payments"));
            assertThat(checked.getSpiffeId().toString()).isEqualTo("spiffe://example.org/billing");
        }
    }

    /** java-spiffe keeps one SVID per hint, so the two identities carry different hints. */
    @Test
    void twoWorkloadsUseTheirFetchedSvidsForMutualTls() throws Exception {
        fixture.identities.setEntries(
                new Entry(Set.of(WorkloadApiFixture.ownUid()), fixture.domain.x509("/frontend")),
                new Entry(Set.of(WorkloadApiFixture.ownUid()), fixture.domain.x509("/backend")));
        X509Context context;
        try (WorkloadApiClient client = client()) {
            context = client.fetchX509Context();
        }
        X509Svid frontend = svid(context, "spiffe://example.org/frontend");
        X509Svid backend = svid(context, "spiffe://example.org/backend");
        var bundle = context.getX509BundleSet().getBundleForTrustDomain(TrustDomain.parse("example.org"));

        SSLContext serverContext = MutualTls.context(backend, bundle.getX509Authorities());
        SSLContext clientContext = MutualTls.context(frontend, bundle.getX509Authorities());
        MutualTls.Peers peers = MutualTls.handshake(serverContext, clientContext);

        assertThat(peers.seenByServer()).isEqualTo("spiffe://example.org/frontend");
        assertThat(peers.seenByClient()).isEqualTo("spiffe://example.org/backend");
    }

    private static X509Svid svid(X509Context context, String id) {
        return context.getX509Svids().stream().filter(s -> s.getSpiffeId().toString().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void rotationReachesAnOpenX509Source() throws Exception {
        try (DefaultX509Source source = DefaultX509Source.newSource(DefaultX509Source.X509SourceOptions.builder()
                .spiffeSocketPath(fixture.socketUri()).initTimeout(Duration.ofSeconds(10)).build())) {
            X509Svid before = source.getX509Svid();

            var rotated = fixture.domain.x509("/billing");
            fixture.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid()), rotated));

            Eventually.within(Duration.ofSeconds(10), () ->
                    assertThat(source.getX509Svid().getLeaf()).isEqualTo(rotated.chain().get(0)));
            assertThat(source.getX509Svid().getLeaf()).isNotEqualTo(before.getLeaf());
        }
    }
}
