package dev.sigil.server.authority;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.keys.KeyManagers;
import dev.sigil.testkit.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UpstreamAuthorityTest {
    static final TrustDomain DOMAIN = TrustDomain.parse("example.org");
    static final SpiffeId WORKLOAD = SpiffeId.parse("spiffe://example.org/api");

    @TempDir
    Path temp;
    MutableClock clock = MutableClock.atEpochOfTests();
    Datastore datastore;

    @AfterEach
    void stop() {
        if (datastore != null) {
            datastore.close();
        }
    }

    Authority start(TestUpstream upstream) {
        datastore = TestStores.sqlite(temp);
        AuthorityConfig config = AuthorityConfig.defaults(DOMAIN).withUpstream(UpstreamCa.load(upstream.certificates(), upstream.privateKey()));
        return Authority.start(config, datastore, KeyManagers.memory(), clock, RotationListener.none());
    }

    @Test
    void intermediateTravelsInTheChainAndOnlyTheUpstreamRootIsInTheBundle() throws Exception {
        TestUpstream upstream = TestUpstream.root(temp, clock.instant().minus(Duration.ofDays(1)), clock.instant().plus(Duration.ofDays(365)));
        Authority authority = start(upstream);

        X509Svid svid = authority.mintX509Svid(WORKLOAD, TestCsrs.csr(TestCsrs.ec("secp256r1")), Duration.ofHours(1), List.of());

        assertThat(authority.bundle().x509Authorities()).containsExactly(upstream.root());
        assertThat(svid.chain()).hasSize(2);
        X509Certificate intermediate = svid.chain().get(1);
        assertThat(intermediate.getIssuerX500Principal()).isEqualTo(upstream.root().getSubjectX500Principal());
        assertThat(intermediate.getBasicConstraints()).isGreaterThanOrEqualTo(0);
        assertThat(intermediate.getKeyUsage()[5]).isTrue();
        assertThat(intermediate.getSubjectAlternativeNames()).containsExactly(List.of(6, "spiffe://example.org"));
        assertThat(svid.leaf().getIssuerX500Principal()).isEqualTo(intermediate.getSubjectX500Principal());
        assertThat(Pkix.validate(svid.chain(), authority.bundle().x509Authorities(), clock.instant())).isEqualTo(upstream.root());
    }

    @Test
    void upstreamIntermediatesFollowSigilsIntermediateAndTheRootAnchorsTheBundle() throws Exception {
        TestUpstream upstream = TestUpstream.intermediateUnderRoot(temp, clock.instant().minus(Duration.ofDays(1)),
                clock.instant().plus(Duration.ofDays(365)));
        Authority authority = start(upstream);

        X509Svid svid = authority.mintX509Svid(WORKLOAD, TestCsrs.csr(TestCsrs.ec("secp256r1")), Duration.ofHours(1), List.of());

        assertThat(svid.chain()).hasSize(3);
        assertThat(svid.chain().get(2)).isEqualTo(upstream.chain().get(0));
        assertThat(authority.bundle().x509Authorities()).containsExactly(upstream.root());
        assertThat(Pkix.validate(svid.chain(), authority.bundle().x509Authorities(), clock.instant())).isEqualTo(upstream.root());
    }

    @Test
    void intermediateNeverOutlivesTheUpstreamCertificateAndNeitherDoSvids() throws Exception {
        TestUpstream upstream = TestUpstream.root(temp, clock.instant().minus(Duration.ofDays(1)), clock.instant().plus(Duration.ofDays(2)));
        Authority authority = start(upstream);

        X509Svid svid = authority.mintX509Svid(WORKLOAD, TestCsrs.csr(TestCsrs.ec("secp256r1")), Duration.ofDays(30), List.of());

        assertThat(svid.chain().get(1).getNotAfter()).isEqualTo(upstream.root().getNotAfter());
        assertThat(svid.leaf().getNotAfter()).isEqualTo(upstream.root().getNotAfter());
    }

    @Test
    void upstreamKeyThatDoesNotBelongToTheCertificateIsRefused() throws Exception {
        TestUpstream upstream = TestUpstream.root(temp, clock.instant(), clock.instant().plus(Duration.ofDays(30)));
        Path other = Files.createDirectories(temp.resolve("other"));
        TestUpstream stranger = TestUpstream.root(other, clock.instant(), clock.instant().plus(Duration.ofDays(30)));

        assertThatThrownBy(() -> UpstreamCa.load(upstream.certificates(), stranger.privateKey()))
                .isInstanceOf(AuthorityException.class)
                .hasMessageContaining("does not belong to certificate")
                .hasMessageContaining(stranger.privateKey().toString());
    }

    @Test
    void upstreamFileWithoutCertificatesIsRefusedNamingIt() throws Exception {
        TestUpstream upstream = TestUpstream.root(temp, clock.instant(), clock.instant().plus(Duration.ofDays(30)));
        Path empty = Files.writeString(temp.resolve("empty.pem"), "");

        assertThatThrownBy(() -> UpstreamCa.load(empty, upstream.privateKey()))
                .hasMessageContaining(empty.toString())
                .hasMessageContaining("no PEM 'CERTIFICATE' block");
    }
}
