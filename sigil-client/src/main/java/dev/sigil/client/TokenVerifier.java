package dev.sigil.client;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Verifies Sigil's tokens offline, as a relying party (a resource server, an MCP server, a service in a call
 * chain) must: the signature with a key of the trust domain's JWKS (fetched from {@code jwks_uri}, again when
 * an unknown {@code kid} appears, at most every {@link RefreshingKeys#REFETCH}), the header {@code typ} (an access token
 * is never taken for a transaction token or a JWT-SVID, nor the other way round), the issuer, the times (with
 * {@link #LEEWAY}), the audience, the scopes, the certificate binding ({@code cnf.x5t#S256} must be the
 * client certificate of the connection it arrived on) and the token's status list entry, so a token revoked
 * before its expiry (a task's end, drift, a leak) is refused within the list's {@code ttl}.
 *
 * <p>Fails closed: a status list that cannot be fetched or verified refuses the token
 * ({@link InvalidTokenException.Reason#STATUS_UNAVAILABLE}) unless status checks were turned off. Thread-safe.
 */
public final class TokenVerifier {
    static final Duration LEEWAY = Duration.ofSeconds(30);
    static final Duration MAX_STATUS_CACHE = Duration.ofMinutes(5);
    static final int MAX_TOKEN_LENGTH = 16 * 1024;
    private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512,
            JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512, JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512);

    private final String issuer;
    private final URI jwksUri;
    private final DocumentFetcher fetcher;
    private final Clock clock;
    private final boolean checkStatus;
    private final RefreshingKeys keys;
    private final Map<String, CachedList> statusLists = new ConcurrentHashMap<>();

    private record CachedList(byte[] bits, Instant until) {
    }

    private TokenVerifier(Builder builder) {
        this.issuer = Objects.requireNonNull(builder.issuer, "issuer");
        this.fetcher = Objects.requireNonNull(builder.fetcher, "fetcher");
        this.clock = builder.clock;
        this.checkStatus = builder.checkStatus;
        this.jwksUri = builder.jwksUri != null ? builder.jwksUri : URI.create(trimmed(issuer) + "/keys");
        this.keys = new RefreshingKeys(Optional.of(jwksUri), fetcher, clock, set -> set, null);
    }

    /** A verifier for tokens of {@code issuer} (Sigil's {@code jwt.issuer}); its JWKS is {@code <issuer>/keys} unless set. */
    public static Builder builder(String issuer) {
        return new Builder(issuer);
    }

    public static final class Builder {
        private final String issuer;
        private URI jwksUri;
        private DocumentFetcher fetcher = HttpsFetcher.webPki();
        private Clock clock = Clock.systemUTC();
        private boolean checkStatus = true;

        private Builder(String issuer) {
            this.issuer = Objects.requireNonNull(issuer, "issuer");
        }

        /** Where the JWKS is (the discovery document's {@code jwks_uri}). */
        public Builder jwksUri(URI uri) {
            this.jwksUri = uri;
            return this;
        }

        /** How documents are fetched; {@link HttpsFetcher#spiffe} for a bundle endpoint with the https_spiffe profile. */
        public Builder fetcher(DocumentFetcher fetcher) {
            this.fetcher = fetcher;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** Whether to consult the token status list (default true). Turning it off accepts revoked tokens until they expire. */
        public Builder checkStatus(boolean check) {
            this.checkStatus = check;
            return this;
        }

        public TokenVerifier build() {
            return new TokenVerifier(this);
        }
    }

    /**
     * An access token for {@code audience} (this service's resource URI), carrying every scope in
     * {@code requiredScopes}, presented on a connection whose client certificate is {@code clientCertificate}
     * (empty when the connection had none: a certificate-bound token is then refused).
     */
    public AccessToken verifyAccessToken(String token, String audience, Optional<X509Certificate> clientCertificate, String... requiredScopes)
            throws InvalidTokenException {
        JWTClaimsSet claims = verified(token, "at+jwt");
        List<String> aud = claims.getAudience();
        if (aud == null || !aud.contains(audience)) {
            throw new InvalidTokenException(InvalidTokenException.Reason.WRONG_AUDIENCE, "the token is for " + aud + ", not " + audience);
        }
        Set<String> scopes = scopes(claims);
        requireScopes(scopes, requiredScopes);
        Object cnf = claims.getClaim("cnf");
        if (cnf instanceof Map<?, ?> confirmation && confirmation.get("x5t#S256") instanceof String bound) {
            if (clientCertificate.isEmpty() || !bound.equals(thumbprint(clientCertificate.get()))) {
                throw new InvalidTokenException(InvalidTokenException.Reason.NOT_BOUND_TO_CLIENT,
                        "the token is bound to a client certificate this connection did not present");
            }
        }
        checkStatus(claims);
        Optional<String> actor = claims.getClaim("act") instanceof Map<?, ?> act && act.get("sub") instanceof String sub
                ? Optional.of(sub) : Optional.empty();
        return new AccessToken(claims.getSubject(), aud, scopes, text(claims, "client_id").orElse(claims.getSubject()), actor,
                text(claims, "task"), claims.getJWTID(), instant(claims.getIssueTime()), instant(claims.getExpirationTime()));
    }

    /** A transaction token of {@code trustDomain} (its {@code aud}), carrying every scope in {@code requiredScopes}. */
    @SuppressWarnings("unchecked")
    public TransactionToken verifyTransactionToken(String token, String trustDomain, String... requiredScopes) throws InvalidTokenException {
        JWTClaimsSet claims = verified(token, "txntoken+jwt");
        if (claims.getAudience() == null || !claims.getAudience().equals(List.of(trustDomain))) {
            throw new InvalidTokenException(InvalidTokenException.Reason.WRONG_AUDIENCE,
                    "the transaction token is for " + claims.getAudience() + ", not trust domain " + trustDomain);
        }
        Set<String> scopes = scopes(claims);
        requireScopes(scopes, requiredScopes);
        checkStatus(claims);
        List<String> requesters = new ArrayList<>();
        Object reqWl = claims.getClaim("req_wl");
        if (reqWl instanceof String one) {
            requesters.add(one);
        } else if (reqWl instanceof List<?> many) {
            many.forEach(r -> requesters.add(String.valueOf(r)));
        }
        Map<String, Object> tctx = claims.getClaim("tctx") instanceof Map<?, ?> t ? (Map<String, Object>) t : Map.of();
        Map<String, Object> rctx = claims.getClaim("rctx") instanceof Map<?, ?> r ? (Map<String, Object>) r : Map.of();
        String txn = text(claims, "txn").orElseThrow(() -> new InvalidTokenException(InvalidTokenException.Reason.MALFORMED,
                "the transaction token has no txn"));
        return new TransactionToken(txn, claims.getSubject(), scopes, requesters, tctx, rctx, claims.getJWTID(),
                instant(claims.getIssueTime()), instant(claims.getExpirationTime()));
    }

    /** Signature, type, issuer and times; returns the claims. */
    private JWTClaimsSet verified(String token, String type) throws InvalidTokenException {
        if (token == null || token.length() > MAX_TOKEN_LENGTH) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MALFORMED, "the token is missing or longer than " + MAX_TOKEN_LENGTH);
        }
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(token.strip());
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MALFORMED, "the token is not a signed jwt");
        }
        if (!new JOSEObjectType(type).equals(jwt.getHeader().getType())) {
            throw new InvalidTokenException(InvalidTokenException.Reason.WRONG_TYPE, "the token's typ is " + jwt.getHeader().getType()
                    + ", not " + type);
        }
        verifySignature(jwt);
        if (!issuer.equals(claims.getIssuer())) {
            throw new InvalidTokenException(InvalidTokenException.Reason.WRONG_ISSUER, "the token's issuer is " + claims.getIssuer()
                    + ", not " + issuer);
        }
        Instant now = clock.instant();
        if (claims.getExpirationTime() == null || !claims.getExpirationTime().toInstant().isAfter(now.minus(LEEWAY))) {
            throw new InvalidTokenException(InvalidTokenException.Reason.EXPIRED, "the token expired at " + instant(claims.getExpirationTime()));
        }
        if (claims.getNotBeforeTime() != null && claims.getNotBeforeTime().toInstant().isAfter(now.plus(LEEWAY))) {
            throw new InvalidTokenException(InvalidTokenException.Reason.NOT_YET_VALID, "the token is not valid before "
                    + claims.getNotBeforeTime().toInstant());
        }
        if (claims.getSubject() == null) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MALFORMED, "the token has no sub");
        }
        return claims;
    }

    private void verifySignature(SignedJWT jwt) throws InvalidTokenException {
        if (!ALGORITHMS.contains(jwt.getHeader().getAlgorithm())) {
            throw new InvalidTokenException(InvalidTokenException.Reason.BAD_SIGNATURE, "algorithm " + jwt.getHeader().getAlgorithm()
                    + " is not accepted");
        }
        String kid = jwt.getHeader().getKeyID();
        JWK key = key(kid);
        try {
            JWSVerifier verifier = key instanceof ECKey ec ? new ECDSAVerifier(ec) : key instanceof RSAKey rsa ? new RSASSAVerifier(rsa) : null;
            if (verifier == null || !jwt.verify(verifier)) {
                throw new InvalidTokenException(InvalidTokenException.Reason.BAD_SIGNATURE, "the signature does not verify with key " + kid);
            }
        } catch (JOSEException e) {
            throw new InvalidTokenException(InvalidTokenException.Reason.BAD_SIGNATURE, "the signature cannot be verified: " + e.getMessage(), e);
        }
    }

    private JWK key(String kid) throws InvalidTokenException {
        if (kid == null) {
            throw new InvalidTokenException(InvalidTokenException.Reason.UNKNOWN_KEY, "the token names no kid");
        }
        try {
            return keys.find(kid).orElseThrow(() -> new InvalidTokenException(InvalidTokenException.Reason.UNKNOWN_KEY,
                    "key " + kid + " is not in the jwks at " + jwksUri));
        } catch (IOException | ParseException e) {
            throw new InvalidTokenException(InvalidTokenException.Reason.UNKNOWN_KEY, "cannot fetch the jwks at " + jwksUri + ": "
                    + e.getMessage(), e);
        }
    }

    /** The token's status list bit; the list is fetched from the issuer's origin only, verified like a token, and cached for its ttl. */
    private void checkStatus(JWTClaimsSet claims) throws InvalidTokenException {
        if (!checkStatus || !(claims.getClaim("status") instanceof Map<?, ?> status) || !(status.get("status_list") instanceof Map<?, ?> list)) {
            return;
        }
        if (!(list.get("uri") instanceof String uri) || !(list.get("idx") instanceof Number idx) || idx.longValue() < 0) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MALFORMED, "the token's status claim is malformed");
        }
        if (!uri.startsWith(trimmed(issuer) + "/")) {
            throw new InvalidTokenException(InvalidTokenException.Reason.STATUS_UNAVAILABLE, "the status list " + uri
                    + " is not served by the issuer " + issuer);
        }
        byte[] bits = bits(uri);
        long index = idx.longValue();
        if (index / 8 >= bits.length) {
            throw new InvalidTokenException(InvalidTokenException.Reason.STATUS_UNAVAILABLE, "the status list " + uri + " has no entry " + index);
        }
        if ((bits[(int) (index / 8)] & (1 << (index % 8))) != 0) {
            throw new InvalidTokenException(InvalidTokenException.Reason.REVOKED, "the token was revoked (status list " + uri + ", entry "
                    + index + ")");
        }
    }

    private byte[] bits(String uri) throws InvalidTokenException {
        Instant now = clock.instant();
        CachedList cached = statusLists.get(uri);
        if (cached != null && cached.until().isAfter(now)) {
            return cached.bits();
        }
        try {
            SignedJWT list = SignedJWT.parse(fetcher.get(URI.create(uri)).strip());
            if (!new JOSEObjectType("statuslist+jwt").equals(list.getHeader().getType())) {
                throw new InvalidTokenException(InvalidTokenException.Reason.STATUS_UNAVAILABLE, "the status list " + uri + " is not a statuslist+jwt");
            }
            verifySignature(list);
            JWTClaimsSet claims = list.getJWTClaimsSet();
            if (!uri.equals(claims.getSubject()) || claims.getExpirationTime() == null || claims.getExpirationTime().toInstant().isBefore(now)) {
                throw new InvalidTokenException(InvalidTokenException.Reason.STATUS_UNAVAILABLE, "the status list " + uri
                        + " is for another uri or expired");
            }
            Map<String, Object> statusList = JSONObjectUtils.getJSONObject(claims.toJSONObject(), "status_list");
            if (statusList == null || !(statusList.get("lst") instanceof String lst) || !Objects.equals(1L, number(statusList.get("bits")))) {
                throw new InvalidTokenException(InvalidTokenException.Reason.STATUS_UNAVAILABLE, "the status list " + uri + " is malformed");
            }
            byte[] bits = inflate(Base64.getUrlDecoder().decode(lst));
            long ttl = claims.getClaim("ttl") instanceof Number n ? n.longValue() : 0;
            Duration keep = Duration.ofSeconds(Math.max(0, ttl));
            statusLists.put(uri, new CachedList(bits, now.plus(keep.compareTo(MAX_STATUS_CACHE) > 0 ? MAX_STATUS_CACHE : keep)));
            return bits;
        } catch (IOException | ParseException | IllegalArgumentException | DataFormatException e) {
            throw new InvalidTokenException(InvalidTokenException.Reason.STATUS_UNAVAILABLE, "cannot read the status list " + uri + ": "
                    + e.getMessage(), e);
        }
    }

    private static Long number(Object value) {
        return value instanceof Number n ? n.longValue() : null;
    }

    private static byte[] inflate(byte[] compressed) throws DataFormatException {
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(compressed);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            while (!inflater.finished()) {
                int n = inflater.inflate(buffer);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    throw new DataFormatException("truncated zlib data");
                }
                out.write(buffer, 0, n);
                if (out.size() > 16 * 1024 * 1024) {
                    throw new DataFormatException("the list inflates beyond 16 MiB");
                }
            }
            return out.toByteArray();
        } finally {
            inflater.end();
        }
    }

    private static Set<String> scopes(JWTClaimsSet claims) {
        Set<String> scopes = new LinkedHashSet<>();
        if (claims.getClaim("scope") instanceof String scope && !scope.isBlank()) {
            scopes.addAll(List.of(scope.strip().split(" +")));
        }
        return scopes;
    }

    private static void requireScopes(Set<String> scopes, String... required) throws InvalidTokenException {
        for (String scope : required) {
            if (!scopes.contains(scope)) {
                throw new InvalidTokenException(InvalidTokenException.Reason.INSUFFICIENT_SCOPE, "the token lacks scope " + scope);
            }
        }
    }

    private static Optional<String> text(JWTClaimsSet claims, String name) {
        return claims.getClaim(name) instanceof String value ? Optional.of(value) : Optional.empty();
    }

    private static Instant instant(Date date) {
        return date == null ? Instant.EPOCH : date.toInstant();
    }

    private static String trimmed(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    static String thumbprint(X509Certificate certificate) {
        try {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("cannot hash the client certificate: " + e.getMessage(), e);
        }
    }
}
