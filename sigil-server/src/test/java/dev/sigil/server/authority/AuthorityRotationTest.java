package dev.sigil.server.authority;

import dev.sigil.core.bundle.SpiffeBundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jwt.SignedJWT;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.keys.KeyManager;
import dev.sigil.server.keys.KeyManagers;
import dev.sigil.testkit.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import dev.sigil.core.crypto.Pem;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Rotation over time, driven by a fake clock. The authority kind under test lives 6 hours, so it is
 * prepared at 3h, activated at 5h and its predecessor pruned at 6h; the other kind lives 60 hours and
 * stays out of the way.
 */
class AuthorityRotationTest {
    static final TrustDomain DOMAIN = TrustDomain.parse("example.org");
    static final SpiffeId WORKLOAD = SpiffeId.parse("spiffe://example.org/db");
    static final Duration LIFETIME = Duration.ofHours(6);

    @TempDir
    Path temp;
    MutableClock clock = MutableClock.atEpochOfTests();
    Instant start = clock.instant();
    List<RotationEvent> events = new ArrayList<>();
    List<Datastore> stores = new ArrayList<>();

    @AfterEach
    void stop() {
        stores.forEach(Datastore::close);
    }

    /** A workload's public key for WIT-SVIDs. */
    static final String WIT_KEY = witKey();

    static String witKey() {
        try {
            java.security.KeyPairGenerator generator = java.security.KeyPairGenerator.getInstance("EC");
            generator.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
            return new com.nimbusds.jose.jwk.ECKey.Builder(com.nimbusds.jose.jwk.Curve.P_256,
                    (java.security.interfaces.ECPublicKey) generator.generateKeyPair().getPublic()).build().toJSONString();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static AuthorityConfig configRotating(AuthorityKind kind) {
        Duration other = Duration.ofHours(60);
        return AuthorityConfig.defaults(DOMAIN)
                .withCaTtl(kind == AuthorityKind.X509 ? LIFETIME : other)
                .withJwtKeyTtl(kind == AuthorityKind.JWT || kind == AuthorityKind.WIT ? LIFETIME : other); // wit keys rotate like the jwt key
    }

    Authority start(AuthorityConfig config, KeyManager keys) {
        Datastore datastore = TestStores.sqlite(temp);
        stores.add(datastore);
        return Authority.start(config, datastore, keys, clock, events::add);
    }

    Authority start(AuthorityKind kind) {
        return start(configRotating(kind), KeyManagers.memory());
    }

    void at(Duration sinceStart, Authority authority) {
        clock.set(start.plus(sinceStart));
        authority.tick();
    }

    static List<AuthorityRecord> of(Authority authority, AuthorityKind kind) {
        return authority.journal().stream().filter(record -> record.kind() == kind).toList();
    }

    static int authoritiesInBundle(Authority authority, AuthorityKind kind) {
        return switch (kind) {
            case X509 -> authority.bundle().x509Authorities().size();
            case JWT -> authority.bundle().jwtAuthorities().size();
            case WIT -> authority.bundle().witAuthorities().size();
        };
    }

    /** The id of the authority that signs what is minted now. */
    static String signer(Authority authority, AuthorityKind kind) throws Exception {
        if (kind == AuthorityKind.WIT) {
            return SignedJWT.parse(authority.mintWitSvid(WORKLOAD, WIT_KEY, Duration.ofMinutes(5)).token()).getHeader().getKeyID();
        }
        if (kind == AuthorityKind.JWT) {
            return SignedJWT.parse(authority.mintJwtSvid(WORKLOAD, Audience.of("aud"), Duration.ofMinutes(5)).token()).getHeader().getKeyID();
        }
        X509Certificate leaf = authority.mintX509Svid(WORKLOAD, TestCsrs.csr(TestCsrs.ec("secp256r1")), Duration.ofMinutes(5), List.of())
                .leaf();
        for (AuthorityRecord record : of(authority, AuthorityKind.X509)) {
            X509Certificate ca = Pem.parseCertificates(record.certificatePem().orElseThrow(), "journal").get(0);
            if (ca.getSubjectX500Principal().equals(leaf.getIssuerX500Principal())) {
                leaf.verify(ca.getPublicKey());
                return record.authorityId();
            }
        }
        throw new AssertionError("no x509 authority in the journal issued " + leaf.getIssuerX500Principal());
    }

    static boolean bundleHas(Authority authority, AuthorityRecord record) {
        if (record.kind() == AuthorityKind.WIT) {
            return authority.bundle().witAuthority(record.authorityId()).isPresent();
        }
        if (record.kind() == AuthorityKind.JWT) {
            return authority.bundle().jwtAuthority(record.authorityId()).isPresent();
        }
        X509Certificate ca = Pem.parseCertificates(record.certificatePem().orElseThrow(), "journal").get(0);
        return authority.bundle().x509Authorities().contains(ca);
    }

    List<RotationEvent> eventsOf(AuthorityKind kind) {
        return events.stream().filter(event -> event.kind() == kind).toList();
    }

    @Test
    void firstStartCreatesAndActivatesOneAuthorityOfEachKind() {
        Authority authority = start(AuthorityKind.X509);

        assertThat(events).extracting(event -> event.getClass().getSimpleName() + " " + event.kind())
                .containsExactly("Prepared X509", "Activated X509", "Prepared JWT", "Activated JWT", "Prepared WIT", "Activated WIT");
        assertThat(authority.journal()).extracting(AuthorityRecord::state).containsOnly(AuthorityState.ACTIVE).hasSize(3);
        assertThat(authority.bundle().sequence()).isEqualTo(3);
        assertThat(authority.bundle().x509Authorities()).hasSize(1);
        assertThat(authority.bundle().jwtAuthorities()).hasSize(1);
        assertThat(authority.bundle().witAuthorities()).hasSize(1);
        String witKid = authority.bundle().witAuthorities().get(0).keyId();
        assertThat(authority.bundle().jwtAuthority(witKid)).as("a wit-svid key is never a jwt-svid key").isEmpty();
        assertThat(SpiffeBundle.parse(DOMAIN, authority.bundle().toJson()).witAuthority(witKid)).as("published with use wit-svid").isPresent();
    }

    @ParameterizedTest
    @EnumSource(AuthorityKind.class)
    void nothingChangesBeforeHalfTheLifetime(AuthorityKind kind) {
        Authority authority = start(kind);
        events.clear();

        at(LIFETIME.dividedBy(2).minusSeconds(1), authority);

        assertThat(events).isEmpty();
        assertThat(authority.bundle().sequence()).isEqualTo(3);
    }

    @ParameterizedTest
    @EnumSource(AuthorityKind.class)
    void nextAuthorityIsPreparedAtHalfLifePublishedButNotYetUsed(AuthorityKind kind) throws Exception {
        Authority authority = start(kind);
        String first = of(authority, kind).get(0).authorityId();

        at(Duration.ofHours(3), authority);

        assertThat(eventsOf(kind)).last().isInstanceOf(RotationEvent.Prepared.class);
        assertThat(of(authority, kind)).extracting(AuthorityRecord::state).containsExactly(AuthorityState.ACTIVE, AuthorityState.PREPARED);
        assertThat(authoritiesInBundle(authority, kind)).isEqualTo(2);
        assertThat(authority.bundle().sequence()).as("one more per authority prepared (jwt and wit keys rotate together)")
                .isEqualTo(kind == AuthorityKind.X509 ? 4 : 5);
        assertThat(signer(authority, kind)).isEqualTo(first);
    }

    @ParameterizedTest
    @EnumSource(AuthorityKind.class)
    void preparedAuthorityIsActivatedAtFiveSixthsAndTheOldOneRetired(AuthorityKind kind) throws Exception {
        Authority authority = start(kind);
        at(Duration.ofHours(3), authority);
        String next = of(authority, kind).get(1).authorityId();
        at(Duration.ofHours(5).minusSeconds(1), authority);
        assertThat(signer(authority, kind)).isNotEqualTo(next);
        long sequence = authority.bundle().sequence();

        at(Duration.ofHours(5), authority);

        assertThat(eventsOf(kind).subList(eventsOf(kind).size() - 2, eventsOf(kind).size()))
                .hasExactlyElementsOfTypes(RotationEvent.Retired.class, RotationEvent.Activated.class);
        assertThat(of(authority, kind)).extracting(AuthorityRecord::state).containsExactly(AuthorityState.RETIRED, AuthorityState.ACTIVE);
        assertThat(signer(authority, kind)).isEqualTo(next);
        assertThat(authoritiesInBundle(authority, kind)).isEqualTo(2);
        assertThat(authority.bundle().sequence()).as("activation does not change the bundle").isEqualTo(sequence);
    }

    @ParameterizedTest
    @EnumSource(AuthorityKind.class)
    void retiredAuthorityStaysInTheBundleUntilItExpiresThenIsPrunedWithItsKey(AuthorityKind kind) {
        KeyManager keys = KeyManagers.memory();
        Authority authority = start(configRotating(kind), keys);
        AuthorityRecord first = of(authority, kind).get(0);
        at(Duration.ofHours(3), authority);
        at(Duration.ofHours(5), authority);

        at(LIFETIME.minusSeconds(1), authority);
        assertThat(bundleHas(authority, first)).isTrue();
        assertThat(keys.find(first.keyId())).isPresent();

        long sequence = authority.bundle().sequence();
        at(LIFETIME, authority);

        assertThat(eventsOf(kind)).filteredOn(event -> event instanceof RotationEvent.Pruned)
                .extracting(RotationEvent::authorityId).containsExactly(first.authorityId());
        assertThat(bundleHas(authority, first)).isFalse();
        assertThat(authority.bundle().sequence()).isGreaterThan(sequence);
        assertThat(keys.find(first.keyId())).isEmpty();
        assertThat(of(authority, kind).get(0).state()).isEqualTo(AuthorityState.PRUNED);
        assertThat(of(authority, kind).get(0).prunedAt()).contains(start.plus(LIFETIME));
    }

    @Test
    void svidSignedJustBeforeRotationStaysVerifiableWithTheBundleUntilItExpires() throws Exception {
        Authority authority = start(AuthorityKind.X509);
        at(Duration.ofHours(3), authority);
        at(Duration.ofHours(5).minusSeconds(1), authority);
        X509Svid old = authority.mintX509Svid(WORKLOAD, TestCsrs.csr(TestCsrs.ec("secp256r1")), Duration.ofDays(1), List.of());

        at(Duration.ofHours(5), authority);
        at(LIFETIME.minusSeconds(1), authority);

        assertThat(old.expiresAt()).isEqualTo(start.plus(LIFETIME));
        Pkix.validate(old.chain(), authority.bundle().x509Authorities(), clock.instant());
    }

    @Test
    void rotationKeepsItsInvariantsOverManyLifetimes() throws Exception {
        AuthorityConfig config = AuthorityConfig.defaults(DOMAIN).withCaTtl(LIFETIME).withJwtKeyTtl(Duration.ofHours(2));
        Authority authority = start(config, KeyManagers.memory());
        long sequence = authority.bundle().sequence();
        for (int minutes = 10; minutes <= 3 * 24 * 60; minutes += 10) {
            at(Duration.ofMinutes(minutes), authority);

            for (AuthorityKind kind : AuthorityKind.values()) {
                List<AuthorityRecord> live = of(authority, kind).stream().filter(record -> record.state() != AuthorityState.PRUNED).toList();
                assertThat(live).filteredOn(record -> record.state() == AuthorityState.ACTIVE).hasSize(1);
                assertThat(live).filteredOn(record -> record.state() == AuthorityState.PREPARED).hasSizeLessThanOrEqualTo(1);
                assertThat(live).allSatisfy(record -> assertThat(record.expiredAt(clock.instant())).isFalse());
                assertThat(authoritiesInBundle(authority, kind)).isEqualTo(live.size()).isLessThanOrEqualTo(3);
            }
            assertThat(authority.bundle().sequence()).isGreaterThanOrEqualTo(sequence);
            sequence = authority.bundle().sequence();
            X509Svid svid = authority.mintX509Svid(WORKLOAD, TestCsrs.csr(TestCsrs.ec("secp256r1")), Duration.ofHours(1), List.of());
            Pkix.validate(svid.chain(), authority.bundle().x509Authorities(), clock.instant());
        }
        assertThat(events).filteredOn(event -> event instanceof RotationEvent.Activated && event.kind() == AuthorityKind.X509)
                .as("one rotation every half lifetime").hasSizeBetween(23, 25);
    }

    @Test
    void restartFromTheJournalWithADiskKeyManagerKeepsTheSameAuthorities() throws Exception {
        Path keyDirectory = temp.resolve("keys");
        Authority before = start(AuthorityConfig.defaults(DOMAIN), KeyManagers.disk(keyDirectory));
        clock.advance(Duration.ofDays(4));
        before.tick();
        String bundleBefore = before.bundle().toJson();
        String signerBefore = signer(before, AuthorityKind.X509);
        events.clear();

        Authority after = start(AuthorityConfig.defaults(DOMAIN), KeyManagers.disk(keyDirectory));

        assertThat(events).as("a restart changes nothing").isEmpty();
        assertThat(after.bundle().toJson()).isEqualTo(bundleBefore);
        assertThat(signer(after, AuthorityKind.X509)).isEqualTo(signerBefore);
        assertThat(after.journal()).isEqualTo(before.journal());
        X509Svid svid = after.mintX509Svid(WORKLOAD, TestCsrs.csr(TestCsrs.ec("secp256r1")), Duration.ofHours(1), List.of());
        Pkix.validate(svid.chain(), before.bundle().x509Authorities(), clock.instant());
    }

    @Test
    void missingKeyRefusesToStartNamingTheKeyAndTheKeyDirectory() throws Exception {
        Path keyDirectory = temp.resolve("keys");
        Authority first = start(AuthorityConfig.defaults(DOMAIN), KeyManagers.disk(keyDirectory));
        AuthorityRecord ca = of(first, AuthorityKind.X509).get(0);
        Files.delete(keyDirectory.resolve(ca.keyId() + ".pem"));
        List<AuthorityRecord> journal = first.journal();

        assertThatThrownBy(() -> start(AuthorityConfig.defaults(DOMAIN), KeyManagers.disk(keyDirectory)))
                .isInstanceOf(AuthorityException.class)
                .hasMessageContaining("key '" + ca.keyId() + "'")
                .hasMessageContaining(keyDirectory.toString())
                .hasMessageContaining("refusing to start");
        assertThat(first.journal()).as("no authority was created in its place").isEqualTo(journal);
    }

    @Test
    void unreadableKeyRefusesToStartNamingTheFile() throws Exception {
        Path keyDirectory = temp.resolve("keys");
        Authority first = start(AuthorityConfig.defaults(DOMAIN), KeyManagers.disk(keyDirectory));
        Path file = keyDirectory.resolve(of(first, AuthorityKind.JWT).get(0).keyId() + ".pem");
        Files.writeString(file, "not a key");

        assertThatThrownBy(() -> start(AuthorityConfig.defaults(DOMAIN), KeyManagers.disk(keyDirectory)))
                .isInstanceOf(AuthorityException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("cannot read");
    }

    @Test
    void differentKeyUnderTheRecordedIdRefusesToStart() {
        Path keyDirectory = temp.resolve("keys");
        Authority first = start(AuthorityConfig.defaults(DOMAIN), KeyManagers.disk(keyDirectory));
        AuthorityRecord ca = of(first, AuthorityKind.X509).get(0);
        KeyManagers.disk(keyDirectory).generate(ca.keyId(), ca.keyType());

        assertThatThrownBy(() -> start(AuthorityConfig.defaults(DOMAIN), KeyManagers.disk(keyDirectory)))
                .isInstanceOf(AuthorityException.class)
                .hasMessageContaining("is not the key the journal recorded");
    }

    @Test
    void authoritiesThatExpiredWhileTheServerWasStoppedAreReplacedAtStart() {
        Path keyDirectory = temp.resolve("keys");
        Authority first = start(configRotating(AuthorityKind.X509), KeyManagers.disk(keyDirectory));
        String expired = of(first, AuthorityKind.X509).get(0).authorityId();
        events.clear();
        clock.advance(LIFETIME.plusHours(1));

        Authority later = start(configRotating(AuthorityKind.X509), KeyManagers.disk(keyDirectory));

        assertThat(eventsOf(AuthorityKind.X509)).hasExactlyElementsOfTypes(
                RotationEvent.Pruned.class, RotationEvent.Prepared.class, RotationEvent.Activated.class);
        assertThat(eventsOf(AuthorityKind.X509).get(0).authorityId()).isEqualTo(expired);
        assertThat(later.bundle().x509Authorities()).hasSize(1);
        assertThat(later.mintX509Svid(WORKLOAD, TestCsrs.csr(TestCsrs.ec("secp256r1")), Duration.ofHours(1), List.of()).expiresAt())
                .isAfter(clock.instant());
    }

    @Test
    void failingListenerDoesNotStopRotation() {
        Datastore datastore = TestStores.sqlite(temp);
        stores.add(datastore);
        Authority authority = Authority.start(configRotating(AuthorityKind.X509), datastore, KeyManagers.memory(), clock, event -> {
            throw new IllegalStateException("audit sink down");
        });

        at(Duration.ofHours(3), authority);

        assertThat(authority.bundle().x509Authorities()).hasSize(2);
    }

    @Test
    void aJournalFromBeforeWitSvidsGetsAWitAuthorityAtTheNextStartAndKeepsItsOthers() throws Exception {
        Datastore datastore = TestStores.sqlite(temp);
        stores.add(datastore);
        KeyManager keys = KeyManagers.memory();
        Authority before = Authority.start(AuthorityConfig.defaults(DOMAIN), datastore, keys, clock, events::add);
        String jwtKid = before.bundle().jwtAuthorities().get(0).keyId();
        String x509 = signer(before, AuthorityKind.X509);
        datastore.inTransaction(connection -> {
            try (var statement = connection.createStatement()) {
                return statement.executeUpdate("DELETE FROM authority_journal WHERE kind = 'wit'");
            }
        });

        Authority upgraded = Authority.start(AuthorityConfig.defaults(DOMAIN), datastore, keys, clock, events::add);

        assertThat(upgraded.bundle().witAuthorities()).hasSize(1);
        assertThat(signer(upgraded, AuthorityKind.WIT)).isEqualTo(upgraded.bundle().witAuthorities().get(0).keyId());
        assertThat(upgraded.bundle().jwtAuthorities()).extracting(dev.sigil.core.bundle.JwtAuthority::keyId).containsExactly(jwtKid);
        assertThat(signer(upgraded, AuthorityKind.X509)).isEqualTo(x509);
    }
}
