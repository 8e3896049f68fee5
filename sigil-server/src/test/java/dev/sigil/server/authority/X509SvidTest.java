package dev.sigil.server.authority;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.core.crypto.KeyType;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.keys.KeyManagers;
import dev.sigil.testkit.MutableClock;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class X509SvidTest {
    static final TrustDomain DOMAIN = TrustDomain.parse("example.org");
    static final SpiffeId WORKLOAD = SpiffeId.parse("spiffe://example.org/ns/prod/sa/billing");
    static final Duration HOUR = Duration.ofHours(1);
    private static final String URI = "6";
    private static final String DNS = "2";

    @TempDir
    Path temp;
    MutableClock clock = MutableClock.atEpochOfTests();
    Datastore datastore;
    Authority authority;

    @BeforeEach
    void start() {
        datastore = TestStores.sqlite(temp);
        authority = Authority.start(AuthorityConfig.defaults(DOMAIN), datastore, KeyManagers.memory(), clock, RotationListener.none());
    }

    @AfterEach
    void stop() {
        datastore.close();
    }

    @Test
    void leafHasExactlyOneUriSanAndItIsTheSpiffeId() throws Exception {
        X509Certificate leaf = authority.mintX509Svid(WORKLOAD, TestCsrs.csr(TestCsrs.ec("secp256r1")), HOUR, List.of()).leaf();

        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(Integer.valueOf(URI), WORKLOAD.toString()));
    }

    @Test
    void requestedDnsNamesAreAddedBesideTheOneUriSan() throws Exception {
        X509Certificate leaf = authority.mintX509Svid(WORKLOAD, TestCsrs.csr(TestCsrs.ec("secp256r1")), HOUR,
                List.of("billing.prod.svc", "*.billing.example.org")).leaf();

        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(
                List.of(Integer.valueOf(URI), WORKLOAD.toString()),
                List.of(Integer.valueOf(DNS), "billing.prod.svc"),
                List.of(Integer.valueOf(DNS), "*.billing.example.org"));
    }

    @Test
    void leafIsNotACaAndMayOnlySignDigitally() throws Exception {
        X509Certificate leaf = authority.mintX509Svid(WORKLOAD, TestCsrs.csr(TestCsrs.ec("secp256r1")), HOUR, List.of()).leaf();

        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
        assertThat(leaf.getCriticalExtensionOIDs()).contains("2.5.29.19", "2.5.29.15");
        boolean[] usage = leaf.getKeyUsage();
        assertThat(usage[0]).as("digitalSignature").isTrue();
        assertThat(usage[2]).as("keyEncipherment for an ec key").isFalse();
        assertThat(usage[5]).as("keyCertSign").isFalse();
        assertThat(usage[6]).as("cRLSign").isFalse();
        assertThat(leaf.getExtendedKeyUsage()).containsExactlyInAnyOrder("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    }

    @Test
    void rsaLeafMayAlsoEncipherKeys() throws Exception {
        X509Certificate leaf = authority.mintX509Svid(WORKLOAD, TestCsrs.csr(TestCsrs.rsa(2048)), HOUR, List.of()).leaf();

        boolean[] usage = leaf.getKeyUsage();
        assertThat(usage[0]).isTrue();
        assertThat(usage[2]).isTrue();
        assertThat(usage[5]).isFalse();
        assertThat(usage[6]).isFalse();
    }

    @Test
    void leafCarriesKeyIdentifiersLinkingItToItsCaAndARandomSerial() throws Exception {
        byte[] csr = TestCsrs.csr(TestCsrs.ec("secp256r1"));
        X509Certificate first = authority.mintX509Svid(WORKLOAD, csr, HOUR, List.of()).leaf();
        X509Certificate second = authority.mintX509Svid(WORKLOAD, csr, HOUR, List.of()).leaf();
        X509Certificate ca = authority.bundle().x509Authorities().get(0);

        assertThat(first.getExtensionValue("2.5.29.14")).isNotNull();
        byte[] authorityKeyId = AuthorityKeyIdentifier.getInstance(
                ASN1OctetString.getInstance(first.getExtensionValue("2.5.29.35")).getOctets()).getKeyIdentifierObject().getOctets();
        byte[] caKeyId = SubjectKeyIdentifier.getInstance(
                ASN1OctetString.getInstance(ca.getExtensionValue("2.5.29.14")).getOctets()).getKeyIdentifier();
        assertThat(authorityKeyId).isEqualTo(caKeyId);
        assertThat(first.getSerialNumber()).isNotEqualTo(second.getSerialNumber());
        assertThat(first.getSerialNumber().bitLength()).isGreaterThan(100);
        assertThat(first.getIssuerX500Principal()).isEqualTo(ca.getSubjectX500Principal());
    }

    @Test
    void onlyThePublicKeyIsTakenFromTheCsr() throws Exception {
        KeyPair pair = TestCsrs.ec("secp256r1");
        byte[] greedy = TestCsrs.csr(pair, pair, new X500Name("CN=root, O=evil"), true);

        X509Certificate leaf = authority.mintX509Svid(WORKLOAD, greedy, HOUR, List.of()).leaf();

        assertThat(leaf.getPublicKey().getEncoded()).isEqualTo(pair.getPublic().getEncoded());
        assertThat(leaf.getSubjectX500Principal().getName()).doesNotContain("evil").doesNotContain("root");
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(Integer.valueOf(URI), WORKLOAD.toString()));
        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    }

    @Test
    void caCertificateIsACaForTheTrustDomain() throws Exception {
        X509Certificate ca = authority.bundle().x509Authorities().get(0);

        assertThat(ca.getBasicConstraints()).isGreaterThanOrEqualTo(0);
        assertThat(ca.getCriticalExtensionOIDs()).contains("2.5.29.19", "2.5.29.15");
        assertThat(ca.getKeyUsage()[5]).as("keyCertSign").isTrue();
        assertThat(ca.getKeyUsage()[6]).as("cRLSign").isTrue();
        assertThat(ca.getKeyUsage()[0]).as("digitalSignature").isFalse();
        assertThat(ca.getSubjectAlternativeNames()).containsExactly(List.of(Integer.valueOf(URI), "spiffe://example.org"));
        assertThat(ca.getExtensionValue("2.5.29.14")).isNotNull();
        assertThat(ca.getNotBefore().toInstant()).isEqualTo(clock.instant());
        assertThat(ca.getNotAfter().toInstant()).isEqualTo(clock.instant().plus(AuthorityConfig.DEFAULT_CA_TTL));
        assertThat(ca.getPublicKey().getAlgorithm()).isEqualTo("EC");
    }

    @Test
    void chainValidatesWithPkixAgainstTheBundleRoots() throws Exception {
        X509Svid svid = authority.mintX509Svid(WORKLOAD, TestCsrs.csr(TestCsrs.ec("secp384r1")), HOUR, List.of());

        assertThat(svid.chain()).hasSize(1);
        assertThat(Pkix.validate(svid.chain(), authority.bundle().x509Authorities(), clock.instant()))
                .isEqualTo(authority.bundle().x509Authorities().get(0));
    }

    @Test
    void p384AndRsaCasAreSelectableAndTheirChainsValidate() throws Exception {
        for (KeyType type : List.of(KeyType.EC_P384, KeyType.RSA_2048)) {
            try (Datastore store = TestStores.sqlite(java.nio.file.Files.createDirectories(temp.resolve(type.configName())))) {
                Authority other = Authority.start(AuthorityConfig.defaults(DOMAIN).withCaKeyType(type), store, KeyManagers.memory(), clock,
                        RotationListener.none());

                X509Svid svid = other.mintX509Svid(WORKLOAD, TestCsrs.csr(TestCsrs.ec("secp256r1")), HOUR, List.of());

                assertThat(svid.leaf().getSigAlgName()).isEqualToIgnoringCase(type.signatureAlgorithm());
                assertThat(other.bundle().x509Authorities().get(0).getPublicKey().getAlgorithm()).isEqualTo(type.jcaKeyAlgorithm());
                Pkix.validate(svid.chain(), other.bundle().x509Authorities(), clock.instant());
            }
        }
    }

    @Test
    void validityIsBackdatedAndEndsAfterTheTtl() {
        X509Svid svid = authority.mintX509Svid(WORKLOAD, TestCsrs.csr(TestCsrs.ec("secp256r1")), HOUR, List.of());
        clock.advance(Duration.ofMinutes(30));

        X509Certificate later = authority.mintX509Svid(WORKLOAD, TestCsrs.csr(TestCsrs.ec("secp256r1")), HOUR, List.of()).leaf();

        assertThat(svid.expiresAt()).isEqualTo(Instant.parse("2026-01-01T01:00:00Z"));
        assertThat(svid.leaf().getNotAfter().toInstant()).isEqualTo(svid.expiresAt());
        assertThat(svid.leaf().getNotBefore().toInstant()).as("never before the ca").isEqualTo(clock.instant().minus(Duration.ofMinutes(30)));
        assertThat(later.getNotBefore().toInstant()).isEqualTo(clock.instant().minus(X509Ca.BACKDATE));
    }

    @Test
    void ttlIsCappedByTheCaLifetime() {
        X509Certificate ca = authority.bundle().x509Authorities().get(0);

        X509Svid svid = authority.mintX509Svid(WORKLOAD, TestCsrs.csr(TestCsrs.ec("secp256r1")), Duration.ofDays(365), List.of());

        assertThat(svid.expiresAt()).isEqualTo(ca.getNotAfter().toInstant());
        assertThat(svid.leaf().getNotAfter()).isEqualTo(ca.getNotAfter());
    }

    @Test
    void csrWhoseSignatureDoesNotMatchItsKeyIsRefused() {
        byte[] forged = TestCsrs.csr(TestCsrs.ec("secp256r1"), TestCsrs.ec("secp256r1"), new X500Name("CN=x"), false);

        assertThatThrownBy(() -> authority.mintX509Svid(WORKLOAD, forged, HOUR, List.of()))
                .isInstanceOf(CsrRejectedException.class)
                .hasMessageContaining("signature does not verify");
    }

    @Test
    void csrWithAFlippedSignatureBitIsRefused() {
        byte[] csr = TestCsrs.csr(TestCsrs.ec("secp256r1"));
        csr[csr.length - 5] ^= 0x01;

        assertThatThrownBy(() -> authority.mintX509Svid(WORKLOAD, csr, HOUR, List.of())).isInstanceOf(CsrRejectedException.class);
    }

    @Test
    void bytesThatAreNotACsrAreRefused() {
        assertThatThrownBy(() -> authority.mintX509Svid(WORKLOAD, new byte[] {0x30, 0x03, 1, 2, 3}, HOUR, List.of()))
                .isInstanceOf(CsrRejectedException.class)
                .hasMessageContaining("not a DER-encoded PKCS#10");
        assertThatThrownBy(() -> authority.mintX509Svid(WORKLOAD, new byte[0], HOUR, List.of()))
                .isInstanceOf(CsrRejectedException.class)
                .hasMessageContaining("csr is empty");
    }

    @Test
    void csrWithAnUnsupportedKeyIsRefused() {
        assertThatThrownBy(() -> authority.mintX509Svid(WORKLOAD, TestCsrs.csr(TestCsrs.ec("secp521r1")), HOUR, List.of()))
                .isInstanceOf(CsrRejectedException.class)
                .hasMessageContaining("supported: ec p-256, ec p-384");
    }

    @Test
    void spiffeIdOfAnotherTrustDomainIsRefused() {
        assertThatThrownBy(() -> authority.mintX509Svid(SpiffeId.parse("spiffe://other.org/x"),
                TestCsrs.csr(TestCsrs.ec("secp256r1")), HOUR, List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'spiffe://other.org/x' is not in trust domain 'example.org'");
    }

    @Test
    void invalidDnsNameOrTtlIsRefused() {
        byte[] csr = TestCsrs.csr(TestCsrs.ec("secp256r1"));

        assertThatThrownBy(() -> authority.mintX509Svid(WORKLOAD, csr, HOUR, List.of("bad name")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dns name 'bad name' is invalid");
        assertThatThrownBy(() -> authority.mintX509Svid(WORKLOAD, csr, Duration.ZERO, List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ttl is PT0S");
    }
}
