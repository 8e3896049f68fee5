package dev.sigil.server.authority;

import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.keys.KeyManager;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The signing authority of one trust domain: an X.509 CA, a JWT signing key and a WIT-SVID signing key, each rotated through
 * a persisted journal, and the trust bundle that publishes them.
 *
 * <p>Rotation (see {@link Rotator} for the exact rule): for the active authority of lifetime L, the
 * next is prepared and published at L/2 and activated at 5L/6; a retired authority stays in the
 * bundle until it expires, then is pruned and its key deleted. Every change to the bundle increments
 * its {@code spiffe_sequence}. Call {@link #tick()} periodically (every few seconds); it is cheap when
 * nothing is due.
 *
 * <p>Start-up safety: an empty journal creates the first authorities. A journal whose authorities'
 * keys the key manager lacks, cannot read or holds different keys makes {@link #start} fail with a
 * message naming the key and the key location; the authority never silently creates a new root in
 * place of one relying parties trust.
 *
 * <p>Minting is thread-safe and lock-free; it always uses one consistent snapshot of the active
 * authorities. Lifetimes of minted SVIDs are capped by the signing authority's own expiry.
 */
public final class Authority {
    /** How long before it is minted an X.509-SVID's validity starts (clock skew tolerance). */
    public static final java.time.Duration X509_BACKDATE = X509Ca.BACKDATE;

    private static final Logger LOG = LoggerFactory.getLogger(Authority.class);

    private final AuthorityConfig config;
    private final Journal journal;
    private final Rotator rotator;
    private final KeyManager keys;
    private final Clock clock;
    private volatile ActiveAuthorities active;

    private final String owner;

    private Authority(AuthorityConfig config, Journal journal, Rotator rotator, KeyManager keys, Clock clock, String owner) {
        this.owner = owner;
        this.config = config;
        this.journal = journal;
        this.rotator = rotator;
        this.keys = keys;
        this.clock = clock;
    }

    /**
     * Loads the journal, checks that every authority's key is present, performs any rotation that is
     * due (or creates the first authorities when the journal is empty) and returns a ready authority.
     * The authority of a server alone on its datastore (owner {@code ""}).
     *
     * @throws AuthorityException when the journal references keys the key manager cannot provide
     */
    public static Authority start(AuthorityConfig config, Datastore datastore, KeyManager keys, Clock clock, RotationListener listener) {
        return start(config, "", Duration.ZERO, datastore, keys, clock, listener);
    }

    /**
     * {@link #start(AuthorityConfig, Datastore, KeyManager, Clock, RotationListener)} for server
     * {@code owner} (its stable id) among the servers sharing the datastore: it adopts the authorities
     * recorded without an owner whose keys its key manager holds, checks the keys of its own, and signs
     * only with its own; the bundle holds every server's. Joining a trust domain whose other servers
     * already sign, it publishes its first authorities and waits {@code joinDelay} before activating them
     * (this call returns then).
     *
     * @throws AuthorityException when the journal references keys of this server the key manager cannot provide
     */
    public static Authority start(AuthorityConfig config, String owner, Duration joinDelay, Datastore datastore, KeyManager keys,
                                  Clock clock, RotationListener listener) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(listener, "listener");
        Journal journal = new Journal(datastore, config.trustDomain());
        List<AuthorityRecord> current = journal.current();
        if (!owner.isEmpty()) {
            boolean adopted = false;
            for (AuthorityRecord record : current) {
                if (record.owner().isEmpty() && !record.expiredAt(clock.instant()) && ActiveAuthorities.holdsKey(record, keys)
                        && journal.adopt(record, owner, clock.instant())) {
                    adopted = true;
                    LOG.info("{} authority {} (from before servers had their own) is now this server's ({})", record.kind().storedName(),
                            record.authorityId(), owner);
                }
            }
            List<AuthorityRecord> legacy = current.stream().filter(record -> record.owner().isEmpty()).toList();
            boolean othersOwn = current.stream().anyMatch(record -> !record.owner().isEmpty() && !record.owner().equals(owner));
            if (!adopted && !othersOwn && current.stream().noneMatch(record -> record.owner().equals(owner))) {
                // the single server of before, started with keys that are not its own: refuse, as before, rather than
                // put a new root beside the one relying parties trust
                ActiveAuthorities.verifyKeys(legacy, keys, clock.instant(), "");
            }
            current = journal.current();
        }
        if (current.stream().noneMatch(record -> record.owner().equals(owner))) {
            LOG.info("authority journal for {} has no authorities of this server ({}): creating its first x509, jwt and wit authorities in the {}",
                    config.trustDomain(), owner.isEmpty() ? "alone" : owner, keys.describe());
        } else {
            ActiveAuthorities.verifyKeys(current, keys, clock.instant(), owner);
        }
        Rotator rotator = new Rotator(journal, new AuthorityFactory(config, keys), keys, clock, listener, owner, joinDelay);
        Authority authority = new Authority(config, journal, rotator, keys, clock, owner);
        authority.tick();
        authority.awaitJoined(joinDelay);
        return authority;
    }

    /** Joining: ticks until this server's first authorities are active (at most the join delay and a few seconds more). */
    private void awaitJoined(Duration joinDelay) {
        long deadline = System.nanoTime() + joinDelay.plusSeconds(5).toNanos();
        Optional<Instant> until = rotator.joiningUntil(journal.current());
        if (until.isPresent()) {
            LOG.info("joining the servers of {}: this server's authorities are published; it starts signing at {}", config.trustDomain(),
                    until.get());
        }
        for (; until.isPresent(); until = rotator.joiningUntil(journal.current())) {
            if (System.nanoTime() > deadline) {
                throw new AuthorityException("this server's first authorities were not activated within " + joinDelay.plusSeconds(5)
                        + " of joining (is this server's clock behind the others'?)");
            }
            long millis = Math.max(50, Math.min(1_000, Duration.between(clock.instant(), until.get()).toMillis()));
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AuthorityException("interrupted while joining the servers of " + config.trustDomain());
            }
            tick();
        }
    }

    /** Performs every rotation step that is due by the clock and refreshes the active snapshot. */
    public synchronized void tick() {
        rotator.tick();
        List<AuthorityRecord> current = journal.current();
        long sequence = journal.sequence();
        ActiveAuthorities snapshot = active;
        if (snapshot == null || !snapshot.version().equals(ActiveAuthorities.versionOf(current, sequence))) {
            active = ActiveAuthorities.build(current, sequence, keys, config, owner);
        }
    }

    public TrustDomain trustDomain() {
        return config.trustDomain();
    }

    /** The current bundle: every prepared, active and retired authority. */
    public SpiffeBundle bundle() {
        return active.bundle();
    }

    /** Every authority in the journal, pruned ones included, oldest first; for operators. */
    public List<AuthorityRecord> journal() {
        return journal.all();
    }

    /**
     * Signs an X.509-SVID for the public key in {@code csrDer} (DER PKCS#10). Only the key is taken
     * from the CSR, after its proof-of-possession signature verifies; its subject, SANs and extensions
     * are ignored.
     *
     * @param dnsNames extra DNS SANs; the SPIFFE ID is always the one URI SAN
     * @throws CsrRejectedException     when the CSR is malformed, unsupported or its signature is invalid
     * @throws IllegalArgumentException when the SPIFFE ID is outside this trust domain, the TTL is not
     *                                  positive or a DNS name is invalid
     */
    public X509Svid mintX509Svid(SpiffeId spiffeId, byte[] csrDer, Duration ttl, List<String> dnsNames) {
        checkMember(spiffeId);
        CsrVerifier.ProvenKey key = CsrVerifier.verify(csrDer);
        return activeX509().mint(spiffeId, key, ttl, dnsNames, clock.instant());
    }

    /** Signs a JWT-SVID for {@code spiffeId}; {@code exp} is now + TTL, capped by the signing key's expiry. */
    public JwtSvid mintJwtSvid(SpiffeId spiffeId, Audience audience, Duration ttl) {
        checkMember(spiffeId);
        JwtKey key = active.jwt().orElseThrow(() -> new AuthorityException("no active jwt authority for " + config.trustDomain()));
        return key.mint(spiffeId, audience, ttl, clock.instant());
    }

    /**
     * Signs a JWT-SVID like {@link #mintJwtSvid(SpiffeId, Audience, Duration)} that also carries a
     * {@code status} claim ({@code statusJson}: serialized JSON built by the server's status registry).
     */
    public JwtSvid mintJwtSvid(SpiffeId spiffeId, Audience audience, Duration ttl, String statusJson) {
        checkMember(spiffeId);
        JwtKey key = active.jwt().orElseThrow(() -> new AuthorityException("no active jwt authority for " + config.trustDomain()));
        return key.mint(spiffeId, audience, ttl, clock.instant(), java.util.Optional.of(statusJson));
    }

    /**
     * Signs a WIT-SVID (draft-ietf-wimse-workload-creds) for {@code spiffeId}, bound to {@code confirmationKeyJwk}
     * (the public key of a pair the workload holds), with the active WIT authority: a key of its own, published
     * with {@code use} {@code wit-svid}, so a WIT-SVID never verifies as a JWT-SVID nor the other way round. The
     * header has {@code typ} {@code wit+jwt}; the claims are {@code sub}, {@code iat}, {@code exp} (now + TTL,
     * capped by the key's own expiry), a random {@code jti}, {@code cnf.jwk} and {@code iss} when configured; no
     * {@code aud} (the audience is named by each proof token).
     *
     * @throws IllegalArgumentException when the SPIFFE ID is outside this trust domain, the TTL is not positive or
     *                                  the key is not an acceptable public key
     */
    public WitSvid mintWitSvid(SpiffeId spiffeId, String confirmationKeyJwk, Duration ttl) {
        checkMember(spiffeId);
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("wit-svid ttl is " + ttl + "; it must be positive");
        }
        ConfirmationKey key = ConfirmationKey.parse(confirmationKeyJwk);
        JwtKey signer = active.wit().orElseThrow(() -> new AuthorityException("no active wit authority for " + config.trustDomain()));
        Instant now = clock.instant();
        Instant issuedAt = now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        Instant requested = now.plus(ttl);
        Instant expiresAt = (requested.isAfter(signer.notAfter()) ? signer.notAfter() : requested).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        if (!expiresAt.isAfter(now)) {
            throw new AuthorityException("wit authority " + signer.keyId() + " expires at " + signer.notAfter() + "; it cannot sign at " + now);
        }
        byte[] random = new byte[16];
        JTI_RANDOM.nextBytes(random);
        String jwtId = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        java.util.Map<String, Object> claims = new java.util.LinkedHashMap<>();
        config.jwtIssuer().ifPresent(issuer -> claims.put("iss", issuer));
        claims.put("sub", spiffeId.toString());
        claims.put("iat", issuedAt.getEpochSecond());
        claims.put("exp", expiresAt.getEpochSecond());
        claims.put("jti", jwtId);
        claims.put("cnf", key.claim());
        String token = signer.sign(com.nimbusds.jose.util.JSONObjectUtils.toJSONString(claims), WIT_TYPE);
        return new WitSvid(token, spiffeId, issuedAt, expiresAt, signer.keyId(), jwtId, key.thumbprint());
    }

    /** The header {@code typ} of WIT-SVIDs. */
    public static final String WIT_TYPE = "wit+jwt";
    private static final java.security.SecureRandom JTI_RANDOM = new java.security.SecureRandom();

    /**
     * Signs a JWT other than a JWT-SVID (an access token of the token service) with the active JWT
     * authority, so that relying parties verify it with the same JWKS. The caller builds the claims;
     * {@code expiresAt} must not be past the signing key's own expiry.
     *
     * @throws AuthorityException when there is no active JWT authority or it expires before {@code expiresAt}
     */
    public SignedToken signJwt(String claimsJson, Instant expiresAt) {
        JwtKey key = active.jwt().orElseThrow(() -> new AuthorityException("no active jwt authority for " + config.trustDomain()));
        if (expiresAt.isAfter(key.notAfter())) {
            throw new AuthorityException("jwt authority " + key.keyId() + " expires at " + key.notAfter()
                    + ", before the token's expiry " + expiresAt);
        }
        return new SignedToken(key.sign(claimsJson), key.keyId());
    }

    /**
     * Signs a JWT like {@link #signJwt(String, Instant)} under header {@code typ} {@code type}, for
     * documents that relying parties must not mistake for an access token or a JWT-SVID (a token
     * status list is {@code statuslist+jwt}).
     */
    public SignedToken signJwt(String claimsJson, Instant expiresAt, String type) {
        JwtKey key = active.jwt().orElseThrow(() -> new AuthorityException("no active jwt authority for " + config.trustDomain()));
        if (expiresAt.isAfter(key.notAfter())) {
            throw new AuthorityException("jwt authority " + key.keyId() + " expires at " + key.notAfter()
                    + ", before the document's expiry " + expiresAt);
        }
        return new SignedToken(key.sign(claimsJson, type), key.keyId());
    }

    /** The latest time a JWT signed now may expire (the active JWT key's expiry). */
    public Instant jwtSigningDeadline() {
        return active.jwt().orElseThrow(() -> new AuthorityException("no active jwt authority for " + config.trustDomain())).notAfter();
    }

    /** A compact JWS and the key id it was signed with. {@code toString} does not print the token. */
    public record SignedToken(String compact, String keyId) {
        @Override
        public String toString() {
            return "SignedToken[kid=" + keyId + "]";
        }
    }

    /**
     * Checks a CSR the way {@link #mintX509Svid} would (parse, supported key, valid proof-of-possession
     * signature) without signing anything; lets callers refuse bad input before consuming one-time evidence.
     *
     * @throws CsrRejectedException when the CSR would be rejected
     */
    public static void checkCsr(byte[] csrDer) {
        CsrVerifier.verify(csrDer);
    }

    private X509Ca activeX509() {
        return active.x509().orElseThrow(() -> new AuthorityException("no active x509 authority for " + config.trustDomain()));
    }

    private void checkMember(SpiffeId spiffeId) {
        if (!spiffeId.memberOf(config.trustDomain())) {
            throw new IllegalArgumentException("spiffe id '" + spiffeId + "' is not in trust domain '" + config.trustDomain()
                    + "'; this authority signs only for spiffe://" + config.trustDomain() + "/...");
        }
    }

    @Override
    public String toString() {
        return "Authority[" + config.trustDomain() + ", " + active.x509().map(Object::toString).orElse("no x509 ca") + ", "
                + active.jwt().map(Object::toString).orElse("no jwt key") + ", " + active.wit().map(Object::toString).orElse("no wit key") + "]";
    }
}
