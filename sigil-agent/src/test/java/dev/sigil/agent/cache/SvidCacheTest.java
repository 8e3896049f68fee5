package dev.sigil.agent.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.agent.server.AgentServerClient.SignRequest;
import dev.sigil.agent.server.MintedJwt;
import dev.sigil.agent.server.RegistrationEntry;
import dev.sigil.agent.server.SignResult;
import dev.sigil.agent.testing.TestCa;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.testkit.MutableClock;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.junit.jupiter.api.Test;

class SvidCacheTest {
    private static final TrustDomain TD = new TrustDomain("cache.test");
    private static final SpiffeId AGENT = TD.id("/sigil/agent/x/1");
    private static final Set<Selector> WORKLOAD = Set.of(Selector.parse("unix:uid:1000"), Selector.parse("unix:gid:50"));

    private final MutableClock clock = MutableClock.at(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    private final TestCa ca = new TestCa(TD.name(), clock.instant());
    private final FakeSigner signer = new FakeSigner();
    private final SvidCache cache = new SvidCache(TD, signer, clock);

    /** Signs with the test CA; can refuse entries, lie about the SPIFFE ID, and counts calls. */
    private final class FakeSigner implements WorkloadSigner {
        final Map<String, String> signAs = new HashMap<>();
        final Set<String> refuse = new java.util.HashSet<>();
        final AtomicInteger batches = new AtomicInteger();
        final AtomicInteger mints = new AtomicInteger();
        final AtomicBoolean swapKey = new AtomicBoolean();

        @Override
        public List<SignResult> batchSign(List<SignRequest> requests) {
            batches.incrementAndGet();
            List<SignResult> out = new ArrayList<>();
            for (SignRequest request : requests) {
                if (refuse.contains(request.entryId())) {
                    out.add(new SignResult.Refused(request.entryId(), "not authorized"));
                    continue;
                }
                PublicKey key = swapKey.get() ? otherKey() : csrKey(request.csr());
                out.add(new SignResult.Signed(request.entryId(), List.of(ca.issue(signAs.get(request.entryId()), key,
                        clock.instant(), clock.instant().plus(Duration.ofMinutes(10))))));
            }
            return out;
        }

        @Override
        public MintedJwt mintJwt(String entryId, List<String> audience) {
            return new MintedJwt("token-" + mints.incrementAndGet(), clock.instant().plus(Duration.ofMinutes(5)));
        }

        final List<String> witKeys = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public dev.sigil.agent.server.MintedWit mintWit(String entryId, String publicKeyJwk) {
            witKeys.add(publicKeyJwk);
            return new dev.sigil.agent.server.MintedWit("wit-" + mints.incrementAndGet(), clock.instant().plus(Duration.ofMinutes(5)));
        }

        private PublicKey csrKey(byte[] csr) {
            try {
                return new JcaPKCS10CertificationRequest(new PKCS10CertificationRequest(csr)).getPublicKey();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        private PublicKey otherKey() {
            try {
                KeyPair pair = TestCa.ecKeys();
                return pair.getPublic();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private RegistrationEntry entry(String id, long revision, SpiffeId parent, String... selectors) {
        signer.signAs.putIfAbsent(id, TD.id("/" + id).toString());
        Set<Selector> parsed = new java.util.HashSet<>();
        for (String selector : selectors) {
            parsed.add(Selector.parse(selector));
        }
        return new RegistrationEntry(id, revision, TD.id("/" + id), parent, parsed, Duration.ofMinutes(10), Duration.ofMinutes(5),
                List.of(), id, Optional.empty(), Set.of(), false);
    }

    @Test
    void isNotSyncedUntilTold() {
        assertThat(cache.synced()).isFalse();
        cache.markSynced();
        assertThat(cache.synced()).isTrue();
    }

    @Test
    void nodeAliasEntriesAreNotServedToWorkloads() {
        cache.apply(List.of(entry("alias", 1, TD.id("/sigil/server"), "unix:uid:1000")), List.of(), 1, Optional.empty());

        assertThat(cache.entryCount()).isZero();
    }

    @Test
    void aRefusedSignatureIsRetriedAtTheNextRotation() {
        signer.refuse.add("web");
        cache.apply(List.of(entry("web", 1, AGENT, "unix:uid:1000")), List.of(), 1, Optional.empty());

        assertThat(cache.rotateDue()).isZero();
        assertThat(cache.x509Svids(WORKLOAD)).isEmpty();

        signer.refuse.clear();
        assertThat(cache.rotateDue()).isEqualTo(1);
        assertThat(cache.x509Svids(WORKLOAD)).hasSize(1);
    }

    @Test
    void aCertificateForAnotherSpiffeIdIsDiscarded() {
        signer.signAs.put("web", TD.id("/admin").toString());
        cache.apply(List.of(entry("web", 1, AGENT, "unix:uid:1000")), List.of(), 1, Optional.empty());

        assertThat(cache.rotateDue()).isZero();
        assertThat(cache.x509Svids(WORKLOAD)).isEmpty();
    }

    @Test
    void aCertificateForAnotherKeyIsDiscarded() {
        signer.swapKey.set(true);
        cache.apply(List.of(entry("web", 1, AGENT, "unix:uid:1000")), List.of(), 1, Optional.empty());

        assertThat(cache.rotateDue()).isZero();
        assertThat(cache.identityCount()).isZero();
    }

    @Test
    void anExpiredSvidIsNeverServed() {
        cache.apply(List.of(entry("web", 1, AGENT, "unix:uid:1000")), List.of(), 1, Optional.empty());
        cache.rotateDue();

        clock.advance(Duration.ofMinutes(10));

        assertThat(cache.x509Svids(WORKLOAD)).isEmpty();
    }

    @Test
    void anUnchangedEntryIsNotSignedAgainBeforeHalfLife() {
        cache.apply(List.of(entry("web", 1, AGENT, "unix:uid:1000")), List.of(), 1, Optional.empty());
        cache.rotateDue();
        cache.apply(List.of(entry("web", 1, AGENT, "unix:uid:1000")), List.of(), 1, Optional.empty());

        assertThat(cache.rotateDue()).isZero();
        assertThat(signer.batches).hasValue(1);
    }

    @Test
    void aChangedEntryIsSignedAgain() {
        cache.apply(List.of(entry("web", 1, AGENT, "unix:uid:1000")), List.of(), 1, Optional.empty());
        cache.rotateDue();
        cache.apply(List.of(entry("web", 2, AGENT, "unix:uid:1000", "unix:gid:50")), List.of(), 2, Optional.empty());

        assertThat(cache.rotateDue()).isEqualTo(1);
        assertThat(cache.lastSyncRevision()).isEqualTo(2);
    }

    @Test
    void listenersRunOnChangesAndStopWhenClosed() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        AutoCloseable handle = cache.onChange(calls::incrementAndGet);

        cache.apply(List.of(entry("web", 1, AGENT, "unix:uid:1000")), List.of(), 1, Optional.empty());
        cache.rotateDue();
        assertThat(calls).hasValue(2);

        handle.close();
        cache.apply(List.of(), List.of("web"), 2, Optional.empty());
        assertThat(calls).hasValue(2);
        assertThat(cache.identityCount()).isZero();
    }

    @Test
    void jwtSvidsNeedAnAudience() {
        assertThatThrownBy(() -> cache.jwtSvids(WORKLOAD, List.of(), Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("audience");
    }

    @Test
    void jwtSvidsOfARemovedEntryAreForgotten() {
        cache.apply(List.of(entry("web", 1, AGENT, "unix:uid:1000")), List.of(), 1, Optional.empty());
        cache.jwtSvids(WORKLOAD, List.of("db"), Optional.empty());
        assertThat(cache.cachedJwtCount()).isEqualTo(1);

        cache.apply(List.of(), List.of("web"), 2, Optional.empty());

        assertThat(cache.cachedJwtCount()).isZero();
        assertThat(cache.jwtSvids(WORKLOAD, List.of("db"), Optional.empty())).isEmpty();
    }

    @Test
    void aWitSvidIsBoundToAKeyMadeHereAndReplacedAtHalfItsLifetimeWithListenersTold() throws Exception {
        cache.apply(List.of(entry("web", 1, AGENT, "unix:uid:1000")), List.of(), 1, Optional.empty());
        AtomicInteger changes = new AtomicInteger();
        cache.onChange(changes::incrementAndGet);

        var first = cache.witSvids(WORKLOAD, Optional.empty());
        assertThat(first).singleElement().satisfies(wit -> assertThat(wit.spiffeId()).isEqualTo(TD.id("/web")));
        com.nimbusds.jose.jwk.JWK sent = com.nimbusds.jose.jwk.JWK.parse(signer.witKeys.get(0));
        com.nimbusds.jose.jwk.JWK held = com.nimbusds.jose.jwk.JWK.parse(first.get(0).privateKeyJwk());
        assertThat(sent.isPrivate()).as("only the public key goes to the server").isFalse();
        assertThat(held.isPrivate()).isTrue();
        assertThat(held.computeThumbprint()).isEqualTo(sent.computeThumbprint());
        assertThat(held.getAlgorithm().getName()).isEqualTo("ES256");
        assertThat(cache.witSvids(WORKLOAD, Optional.empty())).as("cached").isEqualTo(first);
        assertThat(cache.witSvids(WORKLOAD, Optional.of(TD.id("/other")))).isEmpty();

        clock.advance(Duration.ofMinutes(2).plusSeconds(31));
        cache.rotateDue();

        assertThat(changes.get()).as("open streams are told to push the new one").isPositive();
        var second = cache.witSvids(WORKLOAD, Optional.empty());
        assertThat(second.get(0).token()).isNotEqualTo(first.get(0).token());
        assertThat(second.get(0).privateKeyJwk()).as("a new key for each wit-svid").isNotEqualTo(first.get(0).privateKeyJwk());
        assertThat(second.get(0).toString()).doesNotContain(second.get(0).token()).doesNotContain("\"d\"");
    }
}
