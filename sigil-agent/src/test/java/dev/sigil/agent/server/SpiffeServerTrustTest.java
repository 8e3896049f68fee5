package dev.sigil.agent.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.agent.testing.TestCa;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.testkit.MutableClock;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpiffeServerTrustTest {
    private static final TrustDomain TD = new TrustDomain("trust.test");
    private final MutableClock clock = MutableClock.at(Instant.parse("2026-03-01T00:00:00Z"));
    private final TestCa ca = new TestCa(TD.name(), clock.instant());

    private X509Certificate leaf(TestCa issuer, String uri) throws Exception {
        return issuer.issue(uri, TestCa.ecKeys().getPublic(), clock.instant(), clock.instant().plus(Duration.ofHours(1)));
    }

    @Test
    void acceptsTheServerIdChainedToTheBundle() throws Exception {
        SpiffeServerTrust trust = new SpiffeServerTrust(TD, List.of(ca.certificate()), false, clock);

        assertThatCode(() -> trust.checkServerTrusted(new X509Certificate[] {leaf(ca, "spiffe://trust.test/sigil/server")}, "ECDHE_ECDSA"))
                .doesNotThrowAnyException();
    }

    @Test
    void refusesAnotherSpiffeIdOfTheSameTrustDomain() throws Exception {
        SpiffeServerTrust trust = new SpiffeServerTrust(TD, List.of(ca.certificate()), false, clock);

        assertThatThrownBy(() -> trust.checkServerTrusted(new X509Certificate[] {leaf(ca, "spiffe://trust.test/sigil/server/x")}, "ECDHE_ECDSA"))
                .isInstanceOf(CertificateException.class).hasMessageContaining("expected 'spiffe://trust.test/sigil/server'");
    }

    @Test
    void refusesAServerCertificateThatHasExpiredByTheClock() throws Exception {
        SpiffeServerTrust trust = new SpiffeServerTrust(TD, List.of(ca.certificate()), false, clock);
        X509Certificate server = leaf(ca, "spiffe://trust.test/sigil/server");

        clock.advance(Duration.ofHours(2));

        assertThatThrownBy(() -> trust.checkServerTrusted(new X509Certificate[] {server}, "ECDHE_ECDSA"))
                .isInstanceOf(CertificateException.class).hasMessageContaining("does not chain");
    }

    @Test
    void refusesClientsAltogether() throws Exception {
        SpiffeServerTrust trust = new SpiffeServerTrust(TD, List.of(ca.certificate()), false, clock);

        assertThatThrownBy(() -> trust.checkClientTrusted(new X509Certificate[] {leaf(ca, "spiffe://trust.test/sigil/server")}, "EC"))
                .isInstanceOf(CertificateException.class);
    }

    @Test
    void needsAnchorsUnlessInsecureBootstrapIsAskedFor() {
        assertThatThrownBy(() -> new SpiffeServerTrust(TD, List.of(), false, clock))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("insecure_bootstrap");
    }

    @Test
    void insecureBootstrapPinsTheFirstRootAndThenValidates() throws Exception {
        SpiffeServerTrust trust = new SpiffeServerTrust(TD, List.of(), true, clock);
        TestCa rogue = new TestCa(TD.name(), clock.instant());

        trust.checkServerTrusted(new X509Certificate[] {leaf(ca, "spiffe://trust.test/sigil/server"), ca.certificate()}, "ECDHE_ECDSA");

        assertThat(trust.anchors()).containsExactly(ca.certificate());
        assertThatThrownBy(() -> trust.checkServerTrusted(
                new X509Certificate[] {leaf(rogue, "spiffe://trust.test/sigil/server"), rogue.certificate()}, "ECDHE_ECDSA"))
                .isInstanceOf(CertificateException.class);
    }
}
