package dev.sigil.agent.workload;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.agent.workload.WorkloadIdentities.Bundles;
import dev.sigil.core.Printable;
import dev.sigil.core.bundle.JwtAuthority;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.InvalidSpiffeIdException;
import dev.sigil.core.spiffeid.SpiffeId;
import java.text.ParseException;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Validates a JWT-SVID per the SPIFFE JWT-SVID specification against the trust bundles: the
 * {@code alg} is one of RS/ES/PS 256/384/512 ({@code none} and HMAC are refused before any key is
 * looked at), {@code kid} names a JWT authority of the trust domain of {@code sub}, the signature
 * verifies with that key, {@code exp} is present and in the future by the injected clock, {@code aud}
 * contains the expected audience, {@code sub} is a SPIFFE ID, and {@code typ}, when present, is
 * {@code JWT} or {@code JOSE}. No clock skew is allowed. Any failure is {@link Invalid} with a
 * reason that never contains the token itself.
 */
final class JwtSvidValidator {
    private static final Set<JWSAlgorithm> ALLOWED = Set.of(
            JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512);

    /**
     * Claims only an OAuth access token carries (RFC 9068, RFC 8693 {@code act}, RFC 8705 {@code cnf},
     * Sigil's {@code task}). Access tokens are signed by the same JWT authority as JWT-SVIDs; one with any
     * of these is refused even when its {@code typ} is not {@code at+jwt} (tokens of older servers).
     */
    static final List<String> ACCESS_TOKEN_CLAIMS = List.of("client_id", "scope", "act", "cnf", "task", "may_act");

    sealed interface Result permits Valid, Invalid {}

    /** A valid token: its subject and its claims as the JSON the token carries. */
    record Valid(SpiffeId spiffeId, String claimsJson) implements Result {}

    record Invalid(String reason) implements Result {}

    private final Clock clock;

    JwtSvidValidator(Clock clock) {
        this.clock = clock;
    }

    /** Where the validator learns whether a token of this trust domain was revoked. */
    @FunctionalInterface
    interface StatusLookup {
        WorkloadIdentities.TokenState state(String uri, long idx);
    }

    Result validate(String token, String audience, Bundles bundles) {
        return validate(token, audience, bundles, (uri, idx) -> WorkloadIdentities.TokenState.UNKNOWN);
    }

    /**
     * Also refuses a JWT-SVID of this trust domain whose {@code status} claim names a status list entry
     * the server reports revoked, or cannot confirm valid (fail closed).
     */
    Result validate(String token, String audience, Bundles bundles, StatusLookup status) {
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(token);
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            return new Invalid("token is not a signed jwt: " + Printable.reason(e));
        }
        JWSHeader header = jwt.getHeader();
        if (!ALLOWED.contains(header.getAlgorithm())) {
            return new Invalid("token alg '" + Printable.clip(String.valueOf(header.getAlgorithm())) + "' is not allowed; a jwt-svid uses RS, ES or PS 256/384/512");
        }
        if (header.getType() != null && !header.getType().equals(JOSEObjectType.JWT) && !header.getType().equals(JOSEObjectType.JOSE)) {
            return new Invalid("token typ '" + Printable.clip(String.valueOf(header.getType())) + "' is not allowed; a jwt-svid's typ is absent, 'JWT' or 'JOSE'");
        }
        for (String claim : ACCESS_TOKEN_CLAIMS) {
            if (claims.getClaim(claim) != null) {
                return new Invalid("token carries the access token claim '" + claim + "'; it is an access token, not a jwt-svid");
            }
        }
        String keyId = header.getKeyID();
        if (keyId == null || keyId.isEmpty()) {
            return new Invalid("token has no 'kid' header; a jwt-svid names its signing key");
        }
        if (claims.getSubject() == null) {
            return new Invalid("token has no 'sub' claim; a jwt-svid's subject is its spiffe id");
        }
        SpiffeId subject;
        try {
            subject = SpiffeId.parse(claims.getSubject());
        } catch (InvalidSpiffeIdException e) {
            return new Invalid("token subject is not a spiffe id: " + e.getMessage());
        }
        Optional<SpiffeBundle> bundle = Responses.bundleOf(bundles, subject.trustDomain());
        if (bundle.isEmpty()) {
            return new Invalid("no bundle for trust domain '" + subject.trustDomain() + "' of subject " + subject);
        }
        Optional<JwtAuthority> authority = bundle.get().jwtAuthority(keyId);
        if (authority.isEmpty()) {
            return new Invalid("token key id '" + Printable.clip(keyId) + "' is not a jwt authority of trust domain '" + subject.trustDomain() + "'");
        }
        try {
            JWSVerifier verifier = new DefaultJWSVerifierFactory().createJWSVerifier(header, authority.get().publicKey());
            if (!jwt.verify(verifier)) {
                return new Invalid("token signature does not verify with key '" + Printable.clip(keyId) + "'");
            }
        } catch (JOSEException | IllegalStateException e) {
            return new Invalid("token signature cannot be verified with key '" + Printable.clip(keyId) + "': " + Printable.reason(e));
        }
        // One token, one form (JwsCanonical): unpadded base64url always; low-s ecdsa only for this trust
        // domain, whose server signs low-s. Federated servers (SPIRE signs with Go's crypto/ecdsa) need not.
        boolean own = subject.trustDomain().equals(bundles.own().trustDomain());
        java.math.BigInteger order = own && authority.get().publicKey() instanceof java.security.interfaces.ECPublicKey ec
                ? ec.getParams().getOrder() : null;
        Optional<String> nonCanonical = dev.sigil.core.crypto.JwsCanonical.problem(token, order);
        if (nonCanonical.isPresent()) {
            return new Invalid("token " + nonCanonical.get());
        }
        Date expiry = claims.getExpirationTime();
        if (expiry == null) {
            return new Invalid("token has no 'exp' claim; a jwt-svid must expire");
        }
        Instant now = clock.instant();
        if (!expiry.toInstant().isAfter(now)) {
            return new Invalid("token expired at " + expiry.toInstant() + " (now " + now + ")");
        }
        List<String> audiences = claims.getAudience();
        if (audiences == null || !audiences.contains(audience)) {
            return new Invalid("token audience " + Printable.clip(String.valueOf(audiences)) + " does not contain '" + Printable.clip(audience) + "'");
        }
        Object statusClaim = claims.getClaim("status");
        if (statusClaim != null) {
            if (!own) {
                return new Valid(subject, jwt.getPayload().toString()); // another trust domain's status lists are not ours to read
            }
            if (!(statusClaim instanceof Map<?, ?> statusMap) || !(statusMap.get("status_list") instanceof Map<?, ?> list)
                    || !(list.get("uri") instanceof String uri) || !(list.get("idx") instanceof Number idx)) {
                return new Invalid("token has a status claim that is not a status list reference (status_list with uri and idx)");
            }
            switch (status.state(uri, idx.longValue())) {
                case REVOKED -> {
                    return new Invalid("token was revoked (status list entry " + idx.longValue() + ")");
                }
                case UNKNOWN -> {
                    return new Invalid("token's revocation status cannot be confirmed with the server; it is not accepted until it can");
                }
                case VALID -> {
                    // fall through to valid
                }
            }
        }
        return new Valid(subject, jwt.getPayload().toString());
    }
}
