package dev.sigil.server.agent.attestor.jwt;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.core.Printable;
import dev.sigil.core.selector.InvalidSelectorException;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.agent.attestor.AttestationStep;
import dev.sigil.server.agent.attestor.NodeAttestor;
import dev.sigil.server.agent.attestor.SingleUseEvidence;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code jwt}: the node presents a JWT its platform issued (a Kubernetes projected service account
 * token, a GitHub Actions or GitLab CI OIDC token), and the server verifies it against the configured
 * issuers.
 *
 * <p>Guarantees: a token is accepted only when its {@code iss} is exactly a configured issuer; it is
 * signed with an asymmetric algorithm ({@link #ALGORITHMS}; {@code none} and HMAC are refused, so a
 * public key can never be used as a shared secret) by a current key of that issuer ({@link IssuerKeys}:
 * rotated-away keys stop verifying, an unreachable issuer fails closed); its {@code aud} contains the
 * issuer's configured audience; it has {@code exp} and {@code sub}; {@code exp}, {@code nbf} and {@code iat}
 * hold at the injected clock's time within the issuer's clock skew; every required claim is present.
 * Only then is it used up: a token (by issuer and {@code jti}, or by the SHA-256 of the whole token when
 * it has no jti) attests once across every server sharing the datastore ({@link SingleUseEvidence}), and
 * a replay is refused. Refusals quote claims only clipped and never the token.
 *
 * <p>Result: trust level 2; selectors {@code jwt:issuer:<iss>}, {@code jwt:sub:<sub>} and those of the
 * issuer's preset and claim mappings (k8s_psat adds {@code jwt:k8s:cluster:<cluster>}); agent ID
 * {@code /sigil/agent/jwt/k8s_psat/<cluster>/<node uid>} for k8s_psat (one agent per node, as SPIRE
 * names its k8s_psat agents), else {@code /sigil/agent/jwt/<issuer name>/<sha-256 of sub, 32 hex>}.
 */
public final class JwtAttestor implements NodeAttestor {
    public static final String TYPE = "jwt";
    /** The accepted signature algorithms: RSA (PKCS#1 v1.5 and PSS) and ECDSA. */
    public static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512, JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512);
    static final int MAX_TOKEN_BYTES = 16 * 1024;
    static final int TRUST_LEVEL = 2;
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");

    private final TrustDomain trustDomain;
    private final Map<String, TrustedIssuer> issuers = new LinkedHashMap<>();
    private final SingleUseEvidence singleUse;
    private final Clock clock;

    JwtAttestor(TrustDomain trustDomain, List<TrustedIssuer> issuers, SingleUseEvidence singleUse, Clock clock) {
        this.trustDomain = Objects.requireNonNull(trustDomain, "trustDomain");
        issuers.forEach(issuer -> this.issuers.put(issuer.issuer(), issuer));
        if (this.issuers.isEmpty()) {
            throw new IllegalArgumentException("the jwt node attestor needs at least one trusted issuer");
        }
        this.singleUse = Objects.requireNonNull(singleUse, "singleUse");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public AttestationStep begin(byte[] evidence, String actor) {
        if (evidence == null || evidence.length == 0 || evidence.length > MAX_TOKEN_BYTES) {
            return new AttestationStep.Malformed("jwt evidence is " + (evidence == null ? 0 : evidence.length)
                    + " bytes; expected a compact jwt of 1 to " + MAX_TOKEN_BYTES + " bytes");
        }
        String compact = new String(evidence, StandardCharsets.US_ASCII).strip();
        JWT parsed;
        try {
            parsed = JWTParser.parse(compact);
        } catch (ParseException | RuntimeException e) {
            return new AttestationStep.Malformed("jwt evidence is not a compact jwt: " + Printable.reason(e));
        }
        return switch (parsed) {
            case PlainJWT plain -> new AttestationStep.Refused("jwt alg 'none' is refused: the token must be signed with one of "
                    + algorithmNames());
            case EncryptedJWT encrypted -> new AttestationStep.Malformed("jwt evidence is an encrypted jwt; expected a signed one");
            case SignedJWT signed -> verify(signed, compact);
            default -> new AttestationStep.Malformed("jwt evidence is not a signed jwt");
        };
    }

    private AttestationStep verify(SignedJWT token, String compact) {
        JWSHeader header = token.getHeader();
        if (!ALGORITHMS.contains(header.getAlgorithm())) {
            return new AttestationStep.Refused("jwt alg '" + Printable.clip(header.getAlgorithm().getName()) + "' is refused"
                    + (JWSAlgorithm.Family.HMAC_SHA.contains(header.getAlgorithm()) ? " (hmac needs a shared secret; issuers sign with a key pair)" : "")
                    + ": the token must be signed with one of " + algorithmNames());
        }
        JWTClaimsSet claims;
        try {
            claims = token.getJWTClaimsSet();
        } catch (ParseException e) {
            return new AttestationStep.Malformed("jwt claims are not a json object: " + Printable.reason(e));
        }
        String iss = claims.getIssuer();
        if (iss == null) {
            return new AttestationStep.Refused("jwt has no iss claim; it must name one of the issuers configured in node_attestors.jwt");
        }
        TrustedIssuer issuer = issuers.get(iss);
        if (issuer == null) {
            return new AttestationStep.Refused("jwt issuer '" + Printable.clip(iss) + "' is unknown: it is not one of the issuers "
                    + "configured in node_attestors.jwt");
        }
        String from = "jwt of issuer '" + Printable.clip(iss) + "'";
        Optional<AttestationStep> unsigned = checkSignature(token, issuer, from);
        if (unsigned.isPresent()) {
            return unsigned.get();
        }
        Optional<AttestationStep> untimely = checkTimes(claims, issuer, from);
        if (untimely.isPresent()) {
            return untimely.get();
        }
        List<String> audience = claims.getAudience();
        if (audience == null || !audience.contains(issuer.audience())) {
            return new AttestationStep.Refused(from + " has audience " + (audience == null || audience.isEmpty() ? "none"
                    : Printable.clip(audience.toString())) + ", which does not contain '" + issuer.audience()
                    + "', the audience configured for it");
        }
        String sub = claims.getSubject();
        if (sub == null || sub.isEmpty()) {
            return new AttestationStep.Refused(from + " misses required claim 'sub'");
        }
        Map<String, Object> all = claims.toJSONObject();
        List<Selector> selectors = new ArrayList<>();
        SpiffeId agentId;
        try {
            selectors.add(Selector.of(TYPE, "issuer:" + iss));
            selectors.add(Selector.of(TYPE, "sub:" + sub));
            issuer.cluster().ifPresent(cluster -> selectors.add(Selector.of(TYPE, "k8s:cluster:" + cluster)));
            for (ClaimMapping mapping : issuer.mappings()) {
                Optional<List<String>> values = mapping.values(all);
                if (values.isEmpty()) {
                    if (mapping.required()) {
                        return new AttestationStep.Refused(from + " misses required claim '" + mapping.path() + "'"
                                + issuer.preset().map(p -> " (preset " + p.configName() + ")").orElse(" (claims)"));
                    }
                    continue;
                }
                for (String value : values.get()) {
                    selectors.add(Selector.of(TYPE, mapping.selector() + ":" + value));
                }
            }
            agentId = agentId(issuer, sub, all);
        } catch (ClaimMapping.ClaimException | InvalidSelectorException e) {
            return new AttestationStep.Refused(from + " has a claim that cannot be a selector: " + Printable.reason(e));
        }
        Instant usableUntil = claims.getExpirationTime().toInstant().plus(issuer.clockSkew());
        String jti = claims.getJWTID();
        if (!singleUse.firstUse(TYPE, replayKey(iss, jti, compact), usableUntil)) {
            return new AttestationStep.Refused(from + " was already used to attest (" + (jti != null ? "jti '" + Printable.clip(jti) + "'"
                    : "same token") + "); a token attests once: present a freshly issued token");
        }
        return new AttestationStep.Attested(agentId, selectors, TRUST_LEVEL);
    }

    private Optional<AttestationStep> checkSignature(SignedJWT token, TrustedIssuer issuer, String from) {
        Optional<String> kid = Optional.ofNullable(token.getHeader().getKeyID());
        List<JWK> candidates;
        switch (issuer.keys().lookup(kid)) {
            case IssuerKeys.Lookup.Found found -> candidates = found.keys();
            case IssuerKeys.Lookup.NoSuchKey missing -> {
                return Optional.of(new AttestationStep.Refused(from + " is signed with key '" + Printable.clip(missing.kid())
                        + "', which is not among the issuer's current keys (rotated away, or never the issuer's)"));
            }
            case IssuerKeys.Lookup.Unavailable unavailable -> {
                return Optional.of(new AttestationStep.Refused(unavailable.reason()));
            }
        }
        for (JWK key : candidates) {
            Optional<JWSVerifier> verifier = verifier(key, token.getHeader().getAlgorithm());
            try {
                if (verifier.isPresent() && token.verify(verifier.get())) {
                    return Optional.empty();
                }
            } catch (JOSEException | IllegalStateException e) {
                // a key that cannot check this signature is not the signer; try the next one
            }
        }
        return Optional.of(new AttestationStep.Refused(from + " has a signature that does not verify with the issuer's "
                + (kid.isPresent() ? "key '" + Printable.clip(kid.get()) + "'" : "keys")));
    }

    /** A verifier for {@code key} when its type fits {@code algorithm} (RSA for RS/PS, EC for ES). */
    private static Optional<JWSVerifier> verifier(JWK key, JWSAlgorithm algorithm) {
        try {
            if (key.getAlgorithm() != null && !key.getAlgorithm().equals(algorithm)) {
                return Optional.empty();
            }
            // through the server's crypto provider (the native one when it loads), as JWT-SVIDs are verified
            if (key instanceof RSAKey rsa && (JWSAlgorithm.Family.RSA.contains(algorithm))) {
                return Optional.of(dev.sigil.core.crypto.JoseVerifiers.rsa(rsa.toRSAPublicKey()));
            }
            if (key instanceof ECKey ec && JWSAlgorithm.Family.EC.contains(algorithm)) {
                return Optional.of(dev.sigil.core.crypto.JoseVerifiers.ecdsa(ec.toECPublicKey()));
            }
        } catch (JOSEException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private Optional<AttestationStep> checkTimes(JWTClaimsSet claims, TrustedIssuer issuer, String from) {
        Instant now = clock.instant();
        Duration skew = issuer.clockSkew();
        if (claims.getExpirationTime() == null) {
            return Optional.of(new AttestationStep.Refused(from + " misses required claim 'exp'; only tokens that expire are accepted"));
        }
        Instant exp = claims.getExpirationTime().toInstant();
        if (!now.isBefore(exp.plus(skew))) {
            return Optional.of(new AttestationStep.Refused(from + " expired at " + exp + " (now " + now + ", clock skew "
                    + skew.toSeconds() + "s)"));
        }
        Instant nbf = claims.getNotBeforeTime() == null ? null : claims.getNotBeforeTime().toInstant();
        if (nbf != null && now.plus(skew).isBefore(nbf)) {
            return Optional.of(new AttestationStep.Refused(from + " is not valid before " + nbf + " (now " + now + ", clock skew "
                    + skew.toSeconds() + "s)"));
        }
        Instant iat = claims.getIssueTime() == null ? null : claims.getIssueTime().toInstant();
        if (iat != null && now.plus(skew).isBefore(iat)) {
            return Optional.of(new AttestationStep.Refused(from + " is not valid yet: issued at " + iat + " (now " + now + ", clock skew "
                    + skew.toSeconds() + "s)"));
        }
        return Optional.empty();
    }

    private SpiffeId agentId(TrustedIssuer issuer, String sub, Map<String, Object> claims) {
        if (issuer.preset().filter(Preset.K8S_PSAT::equals).isPresent()) {
            String nodeUid = String.valueOf(ClaimMapping.find(claims, Preset.K8S_NODE_UID).orElseThrow());
            return trustDomain.id("/sigil/agent/" + TYPE + "/" + issuer.agentIdName() + "/" + segment(nodeUid));
        }
        return trustDomain.id("/sigil/agent/" + TYPE + "/" + issuer.agentIdName() + "/" + sha256Hex("sub\n" + sub).substring(0, 32));
    }

    /** {@code value} when it is a valid SPIFFE ID path segment, else a digest of it (never a lossy rewrite that could collide). */
    private static String segment(String value) {
        return SEGMENT.matcher(value).matches() ? value : sha256Hex("segment\n" + value).substring(0, 32);
    }

    /** What the replay cache remembers: a digest of the issuer and jti, or of the whole token when it has none. */
    static String replayKey(String iss, String jti, String compact) {
        return jti != null && !jti.isEmpty() ? sha256Hex("jti\n" + iss + "\n" + jti) : sha256Hex("token\n" + compact);
    }

    private static String sha256Hex(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every java runtime has SHA-256", e);
        }
    }

    private static String algorithmNames() {
        return "RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512";
    }

    @Override
    public String toString() {
        return "JwtAttestor[" + trustDomain + ", issuers " + issuers.keySet() + "]";
    }
}
