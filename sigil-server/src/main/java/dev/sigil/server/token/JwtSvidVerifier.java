package dev.sigil.server.token;

import static dev.sigil.core.Printable.clip;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import dev.sigil.core.crypto.JoseVerifiers;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.core.bundle.JwtAuthority;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.SpiffeId;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Verifies JWTs signed by this trust domain's JWT authorities: JWT-SVIDs presented to the token
 * service ({@link #verify}, {@link #verifyIgnoringAudience}) and the service's own access tokens
 * ({@link #verifyAccessToken}). The two share key and {@code kid}, so the type decides: a JWT-SVID has
 * header {@code typ} {@code JWT} or {@code JOSE} or none (JWT-SVID spec section 2) and none of the claims
 * only an access token carries ({@code client_id}, {@code scope}, {@code act}, {@code cnf}, {@code task});
 * an access token has {@code typ} {@code at+jwt} (RFC 9068 section 2.1). A JWT-SVID is then checked
 * against revocation ({@link SvidStatus}: the token registry and the status list), so a revoked or
 * access token never authenticates a subject, an actor or a bearer. Guarantees on success: the signature verifies with the
 * bundle key named by {@code kid}; {@code alg} is RS/ES/PS 256/384/512 ({@code none} and HMAC are
 * refused before any key is looked up); {@code exp} is present and not past; {@code nbf} and
 * {@code iat} are not in the future (beyond {@link #LEEWAY}); {@code sub} is a SPIFFE ID of the trust
 * domain; and {@code aud} contains an accepted audience. Every failure is an {@link OAuthException}
 * {@code invalid_request} (RFC 8693 section 2.2.2) whose description names the problem; what the token
 * says is quoted through {@link dev.sigil.core.Printable}, so a description is one bounded line.
 */
final class JwtSvidVerifier {
    static final Duration LEEWAY = Duration.ofSeconds(30);
    static final int MAX_TOKEN_LENGTH = 8192;
    private static final Set<JWSAlgorithm> ALLOWED = Set.of(
            JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512);

    /** Claims that only an access token carries; a JWT-SVID with any of them is refused. */
    static final List<String> ACCESS_TOKEN_CLAIMS = List.of("client_id", "scope", "act", "cnf", "task", "may_act");
    /** The header {@code typ} of an access token (RFC 9068 section 2.1). */
    static final String ACCESS_TOKEN_TYP = "at+jwt";

    /** A verified token: its subject and claims. */
    record Verified(SpiffeId subject, JWTClaimsSet claims) {
    }

    /**
     * Revocation of a JWT-SVID that passed every other check: why it may not be used (revoked, or an
     * access token of this server), or empty. Fails closed: a lookup that cannot complete throws.
     */
    @FunctionalInterface
    interface SvidStatus {
        Optional<String> refusal(JWTClaimsSet claims);

        static SvidStatus none() {
            return claims -> Optional.empty();
        }
    }

    /**
     * The current bundle of a federated trust domain, or empty when this trust domain does not federate
     * with it (then nothing signed in its name is accepted).
     */
    @FunctionalInterface
    interface FederatedBundles {
        Optional<SpiffeBundle> bundleOf(dev.sigil.core.spiffeid.TrustDomain trustDomain);

        static FederatedBundles none() {
            return trustDomain -> Optional.empty();
        }
    }

    private final Supplier<SpiffeBundle> bundle;
    private final Clock clock;
    private final SvidStatus status;
    private final FederatedBundles federated;
    private final VerifiedSignatures signatures = new VerifiedSignatures();

    JwtSvidVerifier(Supplier<SpiffeBundle> bundle, Clock clock) {
        this(bundle, clock, SvidStatus.none());
    }

    JwtSvidVerifier(Supplier<SpiffeBundle> bundle, Clock clock, SvidStatus status) {
        this(bundle, clock, status, FederatedBundles.none());
    }

    JwtSvidVerifier(Supplier<SpiffeBundle> bundle, Clock clock, SvidStatus status, FederatedBundles federated) {
        this.bundle = bundle;
        this.clock = clock;
        this.status = status;
        this.federated = federated;
    }

    /**
     * Like {@link #verify}, but a JWT-SVID of a federated trust domain is accepted too: one whose
     * {@code sub} names a trust domain this one federates with, verified with that trust domain's JWT
     * authorities from its current federated bundle (and with every other check of {@link #verify} but
     * revocation and canonical form, which only the issuing trust domain can judge: a foreign JWT-SVID is
     * good until it expires). For the subject and actor of a token exchange, whose policy must then name
     * the foreign trust domain for anything to be allowed.
     */
    Verified verifyFederated(String token, String what, Set<String> acceptedAudience) {
        SignedJWT jwt = parse(token, what);
        Optional<dev.sigil.core.spiffeid.TrustDomain> foreign = foreignTrustDomain(jwt);
        if (foreign.isEmpty()) {
            return verify(token, what, acceptedAudience);
        }
        JOSEObjectType typ = jwt.getHeader().getType();
        if (typ != null && !typ.getType().equalsIgnoreCase("JWT") && !typ.getType().equalsIgnoreCase("JOSE")) {
            throw OAuthException.invalidRequest(what + " has header typ '" + clip(typ.getType()) + "'; a jwt-svid has typ JWT");
        }
        Optional<SpiffeBundle> federatedBundle = federated.bundleOf(foreign.get());
        if (federatedBundle.isEmpty()) {
            // judged as before federation existed (a forged or misplaced token fails as it always did), then named
            try {
                return verify(token, what, acceptedAudience);
            } catch (OAuthException e) {
                throw OAuthException.invalidRequest(e.getMessage() + "; its sub names trust domain " + foreign.get()
                        + ", which this trust domain does not federate with");
            }
        }
        SpiffeBundle foreignBundle = federatedBundle.get();
        Verified verified = verifySigned(jwt, what, foreignBundle, false);
        for (String claim : ACCESS_TOKEN_CLAIMS) {
            if (verified.claims().getClaim(claim) != null) {
                throw OAuthException.invalidRequest(what + " carries the access token claim '" + claim + "'; present a jwt-svid");
            }
        }
        List<String> aud = verified.claims().getAudience();
        if (aud == null || aud.stream().noneMatch(acceptedAudience::contains)) {
            throw OAuthException.invalidRequest(what + " audience " + (aud == null ? "(none)" : clip(aud.toString())) + " does not contain "
                    + String.join(" or ", acceptedAudience));
        }
        return verified;
    }

    /** The trust domain the unverified {@code sub} names, when it is a valid SPIFFE ID of another trust domain. */
    private Optional<dev.sigil.core.spiffeid.TrustDomain> foreignTrustDomain(SignedJWT jwt) {
        try {
            // parsed once: SignedJWT keeps the claims set for the checks that follow
            String text = jwt.getJWTClaimsSet().getSubject();
            if (text == null) {
                return Optional.empty();
            }
            dev.sigil.core.spiffeid.TrustDomain domain = SpiffeId.parse(text).trustDomain();
            return domain.equals(bundle.get().trustDomain()) ? Optional.empty() : Optional.of(domain);
        } catch (ParseException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * @param what            names the token in error descriptions ({@code subject_token}, {@code actor_token}, ...)
     * @param acceptedAudience {@code aud} must contain one of these
     */
    Verified verify(String token, String what, Set<String> acceptedAudience) {
        Verified verified = verifyIgnoringAudience(token, what);
        List<String> aud = verified.claims().getAudience();
        if (aud == null || aud.stream().noneMatch(acceptedAudience::contains)) {
            throw OAuthException.invalidRequest(what + " audience " + (aud == null ? "(none)" : clip(aud.toString())) + " does not contain " + String.join(" or ", acceptedAudience));
        }
        return verified;
    }

    /** Everything {@link #verify} checks of a JWT-SVID except the audience. */
    Verified verifyIgnoringAudience(String token, String what) {
        SignedJWT jwt = parse(token, what);
        JOSEObjectType typ = jwt.getHeader().getType();
        if (typ != null && !typ.getType().equalsIgnoreCase("JWT") && !typ.getType().equalsIgnoreCase("JOSE")) {
            throw OAuthException.invalidRequest(what + " has header typ '" + clip(typ.getType()) + "'; a jwt-svid has typ JWT"
                    + (isAccessTokenType(typ) ? " (this is an access token: present the workload's jwt-svid instead)"
                    : typ.getType().equalsIgnoreCase(TxnTokenBroker.TYP) ? " (this is a transaction token, which authenticates nobody)" : ""));
        }
        Verified verified = verifySigned(jwt, what);
        for (String claim : ACCESS_TOKEN_CLAIMS) {
            if (verified.claims().getClaim(claim) != null) {
                throw OAuthException.invalidRequest(what + " carries the access token claim '" + claim + "'; present a jwt-svid")
                        .presentedBy(verified.subject());
            }
        }
        Optional<String> refused = status.refusal(verified.claims());
        if (refused.isPresent()) {
            // a genuine token, refused: the caller named in it is audited (who still uses a revoked credential)
            throw OAuthException.invalidRequest(what + " " + refused.get()).presentedBy(verified.subject());
        }
        return verified;
    }

    /**
     * An access token of this server (header {@code typ} {@code at+jwt}), whatever its audience: its
     * signature, times and subject as for a JWT-SVID. Its registry state is the caller's to check.
     */
    Verified verifyAccessToken(String token, String what) {
        SignedJWT jwt = parse(token, what);
        if (!isAccessTokenType(jwt.getHeader().getType())) {
            throw OAuthException.invalidRequest(what + " is not an access token of this server (header typ is not at+jwt)");
        }
        return verifySigned(jwt, what);
    }

    /**
     * A transaction token of this server (header {@code typ} {@value TxnTokenBroker#TYP}): its signature,
     * times and subject as for a JWT-SVID. Its audience and registry state are the caller's to check.
     */
    Verified verifyTxnToken(String token, String what) {
        SignedJWT jwt = parse(token, what);
        JOSEObjectType typ = jwt.getHeader().getType();
        if (typ == null || !typ.getType().equalsIgnoreCase(TxnTokenBroker.TYP)) {
            throw OAuthException.invalidRequest(what + " is not a txn_token of this server (header typ is not " + TxnTokenBroker.TYP + ")");
        }
        return verifySigned(jwt, what);
    }

    /**
     * Any unexpired token this trust domain's JWT authority signed (access token or JWT-SVID), checked for
     * signature, canonical form, times and subject only: for a leak report, which must find a token
     * whatever its type and state.
     */
    Verified verifySignature(String token, String what) {
        return verifySigned(parse(token, what), what);
    }

    private static boolean isAccessTokenType(JOSEObjectType typ) {
        return typ != null && (typ.getType().equalsIgnoreCase(ACCESS_TOKEN_TYP) || typ.getType().equalsIgnoreCase("application/" + ACCESS_TOKEN_TYP));
    }

    private static SignedJWT parse(String token, String what) {
        if (token.length() > MAX_TOKEN_LENGTH) {
            throw OAuthException.invalidRequest(what + " is " + token.length() + " characters long; at most " + MAX_TOKEN_LENGTH + " are accepted");
        }
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token);
        } catch (ParseException e) {
            throw OAuthException.invalidRequest(what + " is not a signed jwt (compact jws): " + clip(e.getMessage()));
        }
        return jwt;
    }

    private Verified verifySigned(SignedJWT jwt, String what) {
        return verifySigned(jwt, what, bundle.get(), true);
    }

    private Verified verifySigned(SignedJWT jwt, String what, SpiffeBundle current, boolean own) {
        JWSAlgorithm alg = jwt.getHeader().getAlgorithm();
        if (!ALLOWED.contains(alg)) {
            throw OAuthException.invalidRequest(what + " uses alg " + clip(String.valueOf(alg)) + "; accepted are RS, ES and PS 256/384/512");
        }
        String kid = jwt.getHeader().getKeyID();
        if (kid == null || kid.isBlank()) {
            throw OAuthException.invalidRequest(what + " has no kid in its header; a jwt-svid must name its signing key");
        }
        JwtAuthority authority = current.jwtAuthority(kid).orElseThrow(() -> OAuthException.invalidRequest(
                what + " is signed with key '" + clip(kid) + "', which is not a jwt authority of trust domain " + current.trustDomain()));
        String compact = jwt.getParsedString();
        if (!signatures.verifiedBefore(compact, authority.publicKey(), own)) {
            try {
                if (!jwt.verify(verifierFor(authority, alg, what))) {
                    throw OAuthException.invalidRequest(what + " has an invalid signature for key '" + clip(kid) + "'");
                }
            } catch (JOSEException e) {
                throw OAuthException.invalidRequest(what + " signature cannot be verified with key '" + clip(kid) + "': " + clip(e.getMessage()));
            }
            // after the signature, so a forgery reads as one: a re-encoded copy of a genuine token would
            // escape lookups by hash (leak reports), so only the form Sigil signs is accepted
            java.math.BigInteger order = authority.publicKey() instanceof ECPublicKey ec ? ec.getParams().getOrder() : null;
            Optional<String> nonCanonical = own ? dev.sigil.core.crypto.JwsCanonical.problem(compact, order) : Optional.empty();
            if (nonCanonical.isPresent()) {
                throw OAuthException.invalidRequest(what + " " + nonCanonical.get());
            }
            signatures.remember(compact, authority.publicKey(), own);
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw OAuthException.invalidRequest(what + " has malformed claims: " + clip(e.getMessage()));
        }
        Instant now = clock.instant();
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            throw OAuthException.invalidRequest(what + " has no exp claim; it is required");
        }
        if (!exp.toInstant().isAfter(now.minus(LEEWAY))) {
            throw OAuthException.invalidRequest(what + " expired at " + exp.toInstant());
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && nbf.toInstant().isAfter(now.plus(LEEWAY))) {
            throw OAuthException.invalidRequest(what + " is not valid before " + nbf.toInstant());
        }
        Date iat = claims.getIssueTime();
        if (iat != null && iat.toInstant().isAfter(now.plus(LEEWAY))) {
            throw OAuthException.invalidRequest(what + " claims to be issued in the future, at " + iat.toInstant());
        }
        String sub = claims.getSubject();
        if (sub == null) {
            throw OAuthException.invalidRequest(what + " has no sub claim; it must be the workload's spiffe id");
        }
        SpiffeId subject;
        try {
            subject = SpiffeId.parse(sub);
        } catch (RuntimeException e) {
            throw OAuthException.invalidRequest(what + " sub is not a spiffe id: " + e.getMessage());
        }
        if (!subject.memberOf(current.trustDomain())) {
            throw OAuthException.invalidRequest(what + " sub " + clip(subject.toString()) + " is not in trust domain " + current.trustDomain());
        }
        return new Verified(subject, claims);
    }

    private static JWSVerifier verifierFor(JwtAuthority authority, JWSAlgorithm alg, String what) throws JOSEException {
        if (JWSAlgorithm.Family.EC.contains(alg) && authority.publicKey() instanceof ECPublicKey ec) {
            return cachedVerifier(ec);
        }
        if (JWSAlgorithm.Family.RSA.contains(alg) && authority.publicKey() instanceof RSAPublicKey rsa) {
            return cachedVerifier(rsa);
        }
        throw OAuthException.invalidRequest(what + " alg " + clip(String.valueOf(alg)) + " does not match the " + authority.publicKey().getAlgorithm()
                + " key '" + authority.keyId() + "'");
    }

    /**
     * Verifiers are stateless and thread-safe, and building one checks its key (an EC point on its curve),
     * so each authority key gets one, kept while it is in use. Keys come only from bundles (this trust
     * domain's and federated ones), so the map stays small; past {@value #MAX_CACHED_VERIFIERS} it starts over.
     */
    private static JWSVerifier cachedVerifier(PublicKey key) throws JOSEException {
        JWSVerifier cached = VERIFIERS.get(key);
        if (cached != null) {
            return cached;
        }
        JWSVerifier verifier = key instanceof ECPublicKey ec ? JoseVerifiers.ecdsa(ec) : JoseVerifiers.rsa((RSAPublicKey) key);
        if (VERIFIERS.size() >= MAX_CACHED_VERIFIERS) {
            VERIFIERS.clear();
        }
        VERIFIERS.put(key, verifier);
        return verifier;
    }

    private static final int MAX_CACHED_VERIFIERS = 256;
    private static final ConcurrentHashMap<PublicKey, JWSVerifier> VERIFIERS = new ConcurrentHashMap<>();
}
