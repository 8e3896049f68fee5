package dev.sigil.server.token;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.Printable;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.authority.Authority;
import dev.sigil.server.credential.BrokerException;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.status.TokenStatusRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code txn_token} broker: transaction tokens (draft-ietf-oauth-transaction-tokens) as leases,
 * minted locally like access tokens. Token exchange with {@code requested_token_type}
 * {@value TransactionTokens#TXN_TOKEN_TYPE} is its only front door ({@link TransactionTokens}); workloads
 * cannot ask for it through {@code /v1/credentials}.
 *
 * <p>The token: header {@code typ} {@value #TYP} (so it is never taken for a JWT-SVID or an access
 * token, whose verifiers check {@code typ}); claims {@code iss}, {@code iat}, {@code exp}, {@code aud}
 * (the trust domain name: the lease's resource), {@code txn}, {@code sub}, {@code scope},
 * {@code req_wl} (the requesting workloads, a string, or an array once the token was replaced),
 * {@code rctx} and {@code tctx} (JSON objects the front door built), {@code jti} (the lease id) and a
 * {@code status} list entry. Its records are a row of the token registry, which makes it revocable by
 * jti, by holder (drift, bans, leaks) and by task (the task's end), and its status list entry, which is
 * how relying parties learn of that revocation offline. Introspection never reads it active: it is not
 * an access token (the draft forbids using it as one).
 */
public final class TxnTokenBroker extends RegisteredTokenBroker {
    public static final String TYPE = "txn_token";
    /** The header {@code typ} of a transaction token. */
    public static final String TYP = "txntoken+jwt";
    static final String SCOPE = "scope";
    static final String TXN = "txn";
    static final String SUB = "sub";
    static final String TCTX = "tctx";
    static final String RCTX = "rctx";
    static final String REQ_WL = "req_wl";
    private static final Set<String> PARAMETERS = Set.of(SCOPE, TXN, SUB, TCTX, RCTX, REQ_WL);
    /** Bounds on what a token may carry, so a token stays well under the verifiers' 8 KiB limit. */
    static final int MAX_CONTEXT_CHARS = 2048;
    static final int MAX_REQUESTERS = 8;
    private static final Pattern TXN_ID = Pattern.compile("[A-Za-z0-9-]{8,64}");
    private static final Pattern SCOPE_TOKEN = Pattern.compile("[\\x21\\x23-\\x5B\\x5D-\\x7E]+");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The draft asks for minutes-long tokens: at most five minutes, the token service's default TTL when shorter. */
    public static final java.time.Duration MAX_TTL = java.time.Duration.ofMinutes(5);

    public TxnTokenBroker(String issuer, Authority authority, TokenStatusRegistry statuses, IssuedTokens issued, Datastore datastore, Clock clock) {
        super(issuer, authority, statuses, issued, datastore, clock);
    }

    @Override
    String noun() {
        return "transaction token";
    }

    /** The lifetime of a transaction token given the token service's default TTL. */
    public static java.time.Duration ttl(java.time.Duration defaultTtl) {
        return defaultTtl.compareTo(MAX_TTL) < 0 ? defaultTtl : MAX_TTL;
    }

    @Override
    public String type() {
        return TYPE;
    }

    /**
     * The resource is the trust domain name; every parameter above is required and well formed: a
     * non-empty scope, a transaction id, a subject without control characters, {@code tctx} and
     * {@code rctx} JSON objects of at most {@value #MAX_CONTEXT_CHARS} characters, {@code req_wl} a
     * JSON array of 1 to {@value #MAX_REQUESTERS} SPIFFE IDs.
     */
    @Override
    public void check(String resource, Map<String, String> parameters) {
        if (resource.isEmpty() || resource.length() > 255 || resource.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
            throw new BrokerException.Rejected("trust domain '" + Printable.clip(resource) + "' must be 1 to 255 characters without spaces");
        }
        for (String key : parameters.keySet()) {
            if (!PARAMETERS.contains(key)) {
                throw new BrokerException.Rejected("parameter '" + Printable.clip(key) + "' is not one of the txn_token broker's: "
                        + String.join(", ", new java.util.TreeSet<>(PARAMETERS)));
            }
        }
        for (String key : PARAMETERS) {
            String value = parameters.get(key);
            if (value == null) {
                throw new BrokerException.Rejected("parameter '" + key + "' is required for a transaction token");
            }
            boolean valid = switch (key) {
                case SCOPE -> !value.isEmpty() && java.util.Arrays.stream(value.split(" ", -1)).allMatch(s -> SCOPE_TOKEN.matcher(s).matches());
                case TXN -> TXN_ID.matcher(value).matches();
                case SUB -> !value.isEmpty() && value.length() <= 512 && value.chars().noneMatch(Character::isISOControl);
                case TCTX, RCTX -> value.length() <= MAX_CONTEXT_CHARS && parse(value).isObject();
                case REQ_WL -> requesters(value) != null;
                default -> false;
            };
            if (!valid) {
                throw new BrokerException.Rejected("parameter '" + key + "' has a malformed value '" + Printable.clip(value) + "'");
            }
        }
    }

    @Override
    public Minted mint(LeaseGrant lease) {
        check(lease.resource(), lease.parameters());
        Map<String, String> parameters = lease.parameters();
        String jti = lease.id().value();
        JsonNode requesters = requesters(parameters.get(REQ_WL));
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("iss", issuer);
        claims.put("iat", lease.issuedAt().getEpochSecond());
        claims.put("exp", lease.expiresAt().getEpochSecond());
        claims.put("aud", lease.resource());
        claims.put("txn", parameters.get(TXN));
        claims.put("sub", parameters.get(SUB));
        claims.put("scope", parameters.get(SCOPE));
        // one requester is a string (the draft's form); a replaced token's call chain is an array
        claims.put("req_wl", requesters.size() == 1 ? requesters.get(0).asText() : requesters);
        claims.put("rctx", parse(parameters.get(RCTX)));
        claims.put("tctx", parse(parameters.get(TCTX)));
        claims.put("jti", jti);
        Map<String, String> details = new LinkedHashMap<>();
        details.put("jti", jti);
        details.put("txn", parameters.get(TXN));
        details.put("scope", parameters.get(SCOPE));
        return signAndRegister(lease, claims, TYP, "txn_token", parameters.get(SCOPE), Optional.empty(), details);
    }

    @Override
    public void renew(LeaseGrant lease, Instant newExpiry) {
        throw new BrokerException.Rejected("a transaction token cannot be extended; ask for a replacement");
    }

    /** The requesting workloads as a JSON array of SPIFFE IDs, or null when the value is not one. */
    static JsonNode requesters(String value) {
        JsonNode node;
        try {
            node = JSON.readTree(value);
        } catch (JsonProcessingException e) {
            return null;
        }
        if (node == null || !node.isArray() || node.isEmpty() || node.size() > MAX_REQUESTERS) {
            return null;
        }
        for (JsonNode element : node) {
            if (!element.isTextual()) {
                return null;
            }
            try {
                SpiffeId.parse(element.asText());
            } catch (RuntimeException e) {
                return null;
            }
        }
        return node;
    }

    private static JsonNode parse(String value) {
        try {
            JsonNode node = JSON.readTree(value);
            return node == null ? JSON.nullNode() : node;
        } catch (JsonProcessingException e) {
            return JSON.nullNode();
        }
    }
}
