package dev.sigil.client;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Verifies WIMSE workload identity offline, as the service a workload calls must: a WIT-SVID
 * (draft-ietf-wimse-workload-creds; header {@code Workload-Identity-Token}) and the workload proof token
 * (draft-ietf-wimse-wpt; header {@code Workload-Proof-Token}) that proves the caller holds the key the WIT-SVID
 * binds, for this request.
 *
 * <p>A WIT-SVID is accepted only when: its header {@code typ} is {@code wit+jwt}; its {@code alg} is an
 * asymmetric one; its {@code kid} names a {@code wit-svid} key of the trust domain (never a {@code jwt-svid} key:
 * a JWT-SVID or access token cannot pass for a WIT-SVID) and the signature verifies with it; {@code sub} is a
 * SPIFFE ID of the expected trust domain; it has no {@code aud}; {@code exp} is present and not past (with
 * {@link #LEEWAY}); {@code cnf.jwk} is a public key with an {@code alg}.
 *
 * <p>A WPT is accepted only when, in addition: {@code typ} is {@code wpt+jwt}; it is signed with the WIT-SVID's
 * {@code cnf.jwk} under that key's {@code alg}; {@code aud} is this service's URI; {@code exp} is present, not
 * past, and at most {@link Builder#maxProofLifetime} ahead; {@code jti} was not accepted before within its
 * lifetime (an in-memory cache of at most {@link Builder#replayCacheSize} proofs; when it is full of live proofs
 * new ones are refused, fail closed); {@code wth} is the hash of the presented WIT-SVID; {@code ath} and
 * {@code tth} are the hashes of the access token and transaction token presented with it, present exactly when
 * those are. Other token hashes ({@code oth}) are not checked.
 *
 * <p>Keys come from the trust domain's SPIFFE bundle (its bundle endpoint; only keys with {@code use}
 * {@code wit-svid}), fetched again when an unknown {@code kid} appears (at most every {@link RefreshingKeys#REFETCH}), or
 * from a fixed WIT bundle (the JWKS the Workload API's FetchWITBundles sends). Thread-safe. Error messages never
 * contain a token.
 */
public final class WimseVerifier {
    /** The HTTP header that carries the WIT-SVID. */
    public static final String WIT_HEADER = "Workload-Identity-Token";
    /** The HTTP header that carries the workload proof token. */
    public static final String WPT_HEADER = "Workload-Proof-Token";
    static final Duration LEEWAY = Duration.ofSeconds(30);
    static final int MAX_TOKEN_LENGTH = 16 * 1024;
    private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512,
            JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512, JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512);
    private static final String WIT_USE = "wit-svid";

    private final String trustDomain;
    private final Optional<URI> bundleUri;
    private final DocumentFetcher fetcher;
    private final Clock clock;
    private final Duration maxProofLifetime;
    private final int replayCacheSize;
    private final RefreshingKeys keys;
    private final Map<String, Instant> seenProofs = new ConcurrentHashMap<>();

    private WimseVerifier(Builder builder) {
        this.trustDomain = builder.trustDomain;
        this.bundleUri = Optional.ofNullable(builder.bundleUri);
        this.fetcher = builder.fetcher;
        this.clock = builder.clock;
        this.maxProofLifetime = builder.maxProofLifetime;
        this.replayCacheSize = builder.replayCacheSize;
        this.keys = new RefreshingKeys(bundleUri, fetcher, clock, set -> witKeysOf(set, false), builder.witKeys);
    }

    /** A verifier for WIT-SVIDs of {@code trustDomain} (a name such as {@code example.org}, no scheme). */
    public static Builder builder(String trustDomain) {
        return new Builder(trustDomain);
    }

    public static final class Builder {
        private final String trustDomain;
        private URI bundleUri;
        private JWKSet witKeys;
        private DocumentFetcher fetcher = HttpsFetcher.webPki();
        private Clock clock = Clock.systemUTC();
        private Duration maxProofLifetime = Duration.ofMinutes(5);
        private int replayCacheSize = 100_000;

        private Builder(String trustDomain) {
            Objects.requireNonNull(trustDomain, "trustDomain");
            if (trustDomain.isEmpty() || trustDomain.contains("/") || trustDomain.contains(":") || !trustDomain.equals(trustDomain.toLowerCase())) {
                throw new IllegalArgumentException("trust domain '" + trustDomain + "' is not a trust domain name; valid: e.g. example.org");
            }
            this.trustDomain = trustDomain;
        }

        /** The trust domain's SPIFFE bundle endpoint; its {@code wit-svid} keys are used. */
        public Builder bundleUri(URI uri) {
            this.bundleUri = Objects.requireNonNull(uri, "uri");
            return this;
        }

        /**
         * A fixed WIT bundle (a JWKS such as FetchWITBundles sends for this trust domain): its keys with {@code use}
         * {@code wit-svid} or no {@code use} are used; keys of any other use are ignored.
         *
         * @throws IllegalArgumentException when {@code jwks} is not a JWKS
         */
        public Builder witJwks(String jwks) {
            try {
                this.witKeys = witKeysOf(JWKSet.parse(jwks), true);
            } catch (ParseException e) {
                throw new IllegalArgumentException("the wit bundle is not a jwks: " + e.getMessage(), e);
            }
            return this;
        }

        /** How the bundle is fetched; {@link HttpsFetcher#spiffe} for a bundle endpoint with the https_spiffe profile. */
        public Builder fetcher(DocumentFetcher fetcher) {
            this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The longest a proof may be valid ahead of now (default 5 minutes); a longer-lived proof is refused. */
        public Builder maxProofLifetime(Duration lifetime) {
            if (lifetime.isNegative() || lifetime.isZero()) {
                throw new IllegalArgumentException("max proof lifetime is " + lifetime + "; it must be positive");
            }
            this.maxProofLifetime = lifetime;
            return this;
        }

        /** How many accepted proofs are remembered to refuse replays (default 100,000). */
        public Builder replayCacheSize(int size) {
            if (size < 1) {
                throw new IllegalArgumentException("replay cache size is " + size + "; it must be at least 1");
            }
            this.replayCacheSize = size;
            return this;
        }

        public WimseVerifier build() {
            if ((bundleUri == null) == (witKeys == null)) {
                throw new IllegalArgumentException("give exactly one source of wit-svid keys: bundleUri or witJwks");
            }
            return new WimseVerifier(this);
        }
    }

    /** A WIT-SVID alone (for example before looking at the proof); see the class comment for what is checked. */
    public WorkloadIdentity verifyWit(String wit) throws InvalidTokenException {
        return parseWit(wit).identity();
    }

    /**
     * A request that carried {@code wit} and {@code wpt}, sent to {@code audience} (this service's URI, as callers
     * name it), with no access or transaction token.
     */
    public WorkloadIdentity verify(String wit, String wpt, String audience) throws InvalidTokenException {
        return verify(wit, wpt, audience, Optional.empty(), Optional.empty());
    }

    /**
     * A request that carried {@code wit} and {@code wpt}, sent to {@code audience}, with {@code accessToken} and
     * {@code transactionToken} when it carried them (the proof must then bind them with {@code ath} and {@code tth},
     * and must not when it did not). Verifies the WIT-SVID, then the proof, and only then remembers its {@code jti}.
     */
    public WorkloadIdentity verify(String wit, String wpt, String audience, Optional<String> accessToken, Optional<String> transactionToken)
            throws InvalidTokenException {
        Objects.requireNonNull(audience, "audience");
        VerifiedWit verified = parseWit(wit);
        SignedJWT proof = parse(wpt, "workload proof token");
        if (!new JOSEObjectType("wpt+jwt").equals(proof.getHeader().getType())) {
            throw new InvalidTokenException(InvalidTokenException.Reason.WRONG_TYPE, "the proof's typ is " + printable(proof.getHeader().getType())
                    + ", not wpt+jwt");
        }
        JWK key = verified.confirmationKey();
        if (!proof.getHeader().getAlgorithm().getName().equals(key.getAlgorithm().getName())) {
            throw new InvalidTokenException(InvalidTokenException.Reason.BAD_SIGNATURE, "the proof is signed with "
                    + printable(proof.getHeader().getAlgorithm()) + "; the wit-svid's key signs with " + key.getAlgorithm());
        }
        verifySignature(proof, key, "the proof's signature does not verify with the wit-svid's cnf key");
        JWTClaimsSet claims = claims(proof, "workload proof token");
        List<String> aud = claims.getAudience();
        if (aud == null || !aud.contains(audience)) {
            throw new InvalidTokenException(InvalidTokenException.Reason.WRONG_AUDIENCE, "the proof is for " + printable(aud) + ", not " + audience);
        }
        Instant now = clock.instant();
        Date exp = claims.getExpirationTime();
        if (exp == null || !exp.toInstant().isAfter(now.minus(LEEWAY))) {
            throw new InvalidTokenException(InvalidTokenException.Reason.EXPIRED, "the proof expired at " + (exp == null ? "(no exp)" : exp.toInstant()));
        }
        if (exp.toInstant().isAfter(now.plus(maxProofLifetime).plus(LEEWAY))) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MALFORMED, "the proof is valid until " + exp.toInstant()
                    + "; at most " + maxProofLifetime + " ahead is accepted");
        }
        if (claims.getIssueTime() != null && claims.getIssueTime().toInstant().isAfter(now.plus(LEEWAY))) {
            throw new InvalidTokenException(InvalidTokenException.Reason.NOT_YET_VALID, "the proof was issued in the future, at "
                    + claims.getIssueTime().toInstant());
        }
        String jti = claims.getJWTID();
        if (jti == null || jti.isEmpty() || jti.length() > 256) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MALFORMED, "the proof has no jti (or one longer than 256 characters)");
        }
        requireHash(claims, "wth", Optional.of(wit.strip()), "wit-svid");
        requireHash(claims, "ath", accessToken, "access token");
        requireHash(claims, "tth", transactionToken, "transaction token");
        remember(verified.identity().spiffeId() + " " + jti, exp.toInstant().plus(LEEWAY), now);
        return verified.identity().withProof(jti);
    }

    /** The base64url SHA-256 of a token's ASCII text: what {@code wth}, {@code ath} and {@code tth} carry. */
    public static String tokenHash(String token) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no sha-256: " + e.getMessage(), e);
        }
    }

    private record VerifiedWit(WorkloadIdentity identity, JWK confirmationKey) {
    }

    private VerifiedWit parseWit(String wit) throws InvalidTokenException {
        SignedJWT jwt = parse(wit, "wit-svid");
        if (!new JOSEObjectType("wit+jwt").equals(jwt.getHeader().getType())) {
            throw new InvalidTokenException(InvalidTokenException.Reason.WRONG_TYPE, "the wit-svid's typ is " + printable(jwt.getHeader().getType())
                    + ", not wit+jwt");
        }
        JWTClaimsSet claims = claims(jwt, "wit-svid");
        String subject = claims.getSubject();
        if (subject == null || !subject.startsWith("spiffe://")) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MALFORMED, "the wit-svid's sub is " + printable(subject)
                    + ", not a spiffe id");
        }
        String rest = subject.substring("spiffe://".length());
        String domain = rest.contains("/") ? rest.substring(0, rest.indexOf('/')) : rest;
        if (!domain.equals(trustDomain) || rest.length() <= domain.length() + 1 || subject.contains("?") || subject.contains("#")) {
            throw new InvalidTokenException(InvalidTokenException.Reason.WRONG_TRUST_DOMAIN, "the wit-svid's sub " + printable(subject)
                    + " is not a workload of trust domain " + trustDomain);
        }
        String kid = jwt.getHeader().getKeyID();
        JWK signer = witKey(kid);
        verifySignature(jwt, signer, "the wit-svid's signature does not verify with wit-svid key " + kid);
        if (claims.getAudience() != null && !claims.getAudience().isEmpty()) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MALFORMED, "the wit-svid has an aud; a wit-svid must not");
        }
        Instant now = clock.instant();
        if (claims.getExpirationTime() == null || !claims.getExpirationTime().toInstant().isAfter(now.minus(LEEWAY))) {
            throw new InvalidTokenException(InvalidTokenException.Reason.EXPIRED, "the wit-svid expired at "
                    + (claims.getExpirationTime() == null ? "(no exp)" : claims.getExpirationTime().toInstant()));
        }
        if (claims.getNotBeforeTime() != null && claims.getNotBeforeTime().toInstant().isAfter(now.plus(LEEWAY))) {
            throw new InvalidTokenException(InvalidTokenException.Reason.NOT_YET_VALID, "the wit-svid is not valid before "
                    + claims.getNotBeforeTime().toInstant());
        }
        JWK confirmation = confirmationKey(claims);
        WorkloadIdentity identity = new WorkloadIdentity(subject, claims.getExpirationTime().toInstant(), kid, claims.getClaims(), Optional.empty());
        return new VerifiedWit(identity, confirmation);
    }

    private static JWK confirmationKey(JWTClaimsSet claims) throws InvalidTokenException {
        if (!(claims.getClaim("cnf") instanceof Map<?, ?> cnf) || !(cnf.get("jwk") instanceof Map<?, ?> jwk)) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MALFORMED, "the wit-svid has no cnf.jwk");
        }
        JWK key;
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> members = (Map<String, Object>) jwk;
            key = JWK.parse(members);
        } catch (ParseException | ClassCastException e) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MALFORMED, "the wit-svid's cnf.jwk is not a jwk");
        }
        if (key.isPrivate()) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MALFORMED, "the wit-svid's cnf.jwk holds private key material");
        }
        if (key.getAlgorithm() == null || !ALGORITHMS.contains(JWSAlgorithm.parse(key.getAlgorithm().getName()))) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MALFORMED, "the wit-svid's cnf.jwk has alg "
                    + printable(key.getAlgorithm()) + "; valid: " + ALGORITHMS);
        }
        if (!(key instanceof ECKey) && !(key instanceof RSAKey)) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MALFORMED, "the wit-svid's cnf.jwk has key type " + key.getKeyType()
                    + "; valid: EC, RSA");
        }
        return key;
    }

    private static SignedJWT parse(String token, String what) throws InvalidTokenException {
        if (token == null || token.isBlank() || token.length() > MAX_TOKEN_LENGTH) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MALFORMED, "the " + what + " is missing or longer than " + MAX_TOKEN_LENGTH);
        }
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token.strip());
        } catch (ParseException e) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MALFORMED, "the " + what + " is not a signed jwt");
        }
        if (!ALGORITHMS.contains(jwt.getHeader().getAlgorithm())) {
            throw new InvalidTokenException(InvalidTokenException.Reason.BAD_SIGNATURE, "the " + what + "'s algorithm "
                    + printable(jwt.getHeader().getAlgorithm()) + " is not accepted; valid: " + ALGORITHMS);
        }
        return jwt;
    }

    private static JWTClaimsSet claims(SignedJWT jwt, String what) throws InvalidTokenException {
        try {
            return jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MALFORMED, "the " + what + "'s claims are not a json object");
        }
    }

    private static void verifySignature(SignedJWT jwt, JWK key, String failure) throws InvalidTokenException {
        try {
            JWSVerifier verifier = key instanceof ECKey ec ? new ECDSAVerifier(ec) : key instanceof RSAKey rsa ? new RSASSAVerifier(rsa) : null;
            if (verifier == null || !jwt.verify(verifier)) {
                throw new InvalidTokenException(InvalidTokenException.Reason.BAD_SIGNATURE, failure);
            }
        } catch (JOSEException e) {
            throw new InvalidTokenException(InvalidTokenException.Reason.BAD_SIGNATURE, failure + ": " + printable(e.getMessage()), e);
        }
    }

    private JWK witKey(String kid) throws InvalidTokenException {
        if (kid == null || kid.isEmpty()) {
            throw new InvalidTokenException(InvalidTokenException.Reason.UNKNOWN_KEY, "the wit-svid names no kid");
        }
        try {
            return keys.find(kid).orElseThrow(() -> new InvalidTokenException(InvalidTokenException.Reason.UNKNOWN_KEY,
                    "key " + printable(kid) + " is not a wit-svid key of trust domain " + trustDomain));
        } catch (IOException | ParseException e) {
            throw new InvalidTokenException(InvalidTokenException.Reason.UNKNOWN_KEY, "cannot fetch the bundle at " + bundleUri.orElseThrow() + ": "
                    + printable(e.getMessage()), e);
        }
    }

    /** Only the keys a WIT-SVID may be signed with: {@code use} {@code wit-svid} (or, for a WIT bundle, no {@code use}). */
    private static JWKSet witKeysOf(JWKSet set, boolean witBundle) {
        List<JWK> keys = new ArrayList<>();
        for (JWK key : set.getKeys()) {
            String use = key.getKeyUse() == null ? null : key.getKeyUse().getValue();
            if (WIT_USE.equals(use) || witBundle && use == null) {
                keys.add(key.toPublicJWK());
            }
        }
        return new JWKSet(keys);
    }

    private static void requireHash(JWTClaimsSet claims, String claim, Optional<String> token, String what) throws InvalidTokenException {
        Object value = claims.getClaim(claim);
        if (token.isEmpty()) {
            if (value != null) {
                throw new InvalidTokenException(InvalidTokenException.Reason.PROOF_MISMATCH, "the proof binds an " + what + " (" + claim
                        + ") that the request did not carry");
            }
            return;
        }
        if (!(value instanceof String hash)) {
            throw new InvalidTokenException(InvalidTokenException.Reason.PROOF_MISMATCH, "the proof has no " + claim + " binding the " + what
                    + " the request carried");
        }
        if (!MessageDigest.isEqual(hash.getBytes(StandardCharsets.US_ASCII), tokenHash(token.get().strip()).getBytes(StandardCharsets.US_ASCII))) {
            throw new InvalidTokenException(InvalidTokenException.Reason.PROOF_MISMATCH, "the proof's " + claim + " is not the hash of the "
                    + what + " the request carried");
        }
    }

    /** Records an accepted proof until {@code until}; refuses one seen before, or any when the cache is full of live proofs. */
    private void remember(String key, Instant until, Instant now) throws InvalidTokenException {
        if (seenProofs.size() >= replayCacheSize) {
            seenProofs.values().removeIf(expiry -> !expiry.isAfter(now));
            if (seenProofs.size() >= replayCacheSize) {
                throw new InvalidTokenException(InvalidTokenException.Reason.REPLAYED, "the proof replay cache is full (" + replayCacheSize
                        + " live proofs); refusing new ones until some expire");
            }
        }
        Instant previous = seenProofs.putIfAbsent(key, until);
        if (previous != null) {
            if (previous.isAfter(now)) {
                throw new InvalidTokenException(InvalidTokenException.Reason.REPLAYED, "the proof's jti was already used");
            }
            seenProofs.put(key, until);
        }
    }

    /** One line of printable text, at most 120 characters: for attacker-controlled values in messages. */
    private static String printable(Object value) {
        String text = String.valueOf(value);
        StringBuilder out = new StringBuilder();
        text.codePoints().limit(120).forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return text.length() > 120 ? out + "..." : out.toString();
    }
}
