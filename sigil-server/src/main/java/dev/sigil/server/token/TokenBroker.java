package dev.sigil.server.token;

import dev.sigil.core.Printable;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.authority.Authority;
import dev.sigil.server.credential.BrokerException;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.credential.LocalBroker;
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
 * The {@code token} broker: the token service's JWT access tokens (RFC 9068) as leases, minted locally
 * ({@link LocalBroker}). The lease's {@code resource} is the token's audience and its id the token's
 * {@code jti}; the token carries the holder as {@code sub}, the task, the first actor of the delegation
 * as {@code act}, a status list entry, and from {@link #check}ed parameters its {@code scope},
 * {@code client_id} and certificate binding ({@code cnf.x5t#S256}). Its records are the token's registry
 * row (without which introspection never reads it active) and its status list entry.
 *
 * <p>Token exchange ({@code POST /oauth2/token}) is its front door: workloads cannot request it by name
 * through {@code /v1/credentials} (the lease service refuses, see {@code ConfiguredBroker.requestable}).
 * Revoking the lease revokes the token: its registry row reads revoked (introspection says inactive)
 * and its bit is set on the status list; idempotent. Tokens cannot be extended ({@link #renew} rejects);
 * a token is dead after its {@code exp}, which relying parties enforce without Sigil.
 */
public final class TokenBroker extends RegisteredTokenBroker {
    public static final String TYPE = "token";
    /** Space-separated granted scopes (the grant pipeline's result); absent or empty for none. */
    public static final String SCOPE = "scope";
    /** RFC 9068 {@code client_id}: the client that asked; the holder when absent. */
    public static final String CLIENT_ID = "client_id";
    /** SHA-256 thumbprint (base64url) of the client certificate the token is bound to (RFC 8705). */
    public static final String CNF_X5T = "cnf_x5t";
    private static final Set<String> PARAMETERS = Set.of(SCOPE, CLIENT_ID, CNF_X5T);
    private static final Pattern SCOPE_TOKEN = Pattern.compile("[\\x21\\x23-\\x5B\\x5D-\\x7E]+");
    private static final Pattern THUMBPRINT = Pattern.compile("[A-Za-z0-9_-]{43}");

    public TokenBroker(String issuer, Authority authority, TokenStatusRegistry statuses, IssuedTokens issued, Datastore datastore, Clock clock) {
        super(issuer, authority, statuses, issued, datastore, clock);
    }

    @Override
    String noun() {
        return "access token";
    }

    @Override
    public String type() {
        return TYPE;
    }

    /** The audience must be one value of at most 512 characters without spaces; parameters only those above, well formed. */
    @Override
    public void check(String resource, Map<String, String> parameters) {
        if (resource.isEmpty() || resource.length() > ExchangeRequest.MAX_TARGET
                || resource.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
            throw new BrokerException.Rejected("audience '" + Printable.clip(resource) + "' must be 1 to " + ExchangeRequest.MAX_TARGET
                    + " characters without spaces");
        }
        for (Map.Entry<String, String> parameter : parameters.entrySet()) {
            String value = parameter.getValue();
            boolean valid = switch (parameter.getKey()) {
                case SCOPE -> value.isEmpty() || java.util.Arrays.stream(value.split(" ", -1)).allMatch(s -> SCOPE_TOKEN.matcher(s).matches());
                case CLIENT_ID -> isSpiffeId(value);
                case CNF_X5T -> THUMBPRINT.matcher(value).matches();
                default -> throw new BrokerException.Rejected("parameter '" + Printable.clip(parameter.getKey())
                        + "' is not one of the token broker's: " + String.join(", ", new java.util.TreeSet<>(PARAMETERS)));
            };
            if (!valid) {
                throw new BrokerException.Rejected("parameter '" + parameter.getKey() + "' has a malformed value '" + Printable.clip(value) + "'");
            }
        }
    }

    @Override
    public Minted mint(LeaseGrant lease) {
        check(lease.resource(), lease.parameters());
        String jti = lease.id().value();
        String scope = lease.parameters().getOrDefault(SCOPE, "");
        Optional<String> x5t = Optional.ofNullable(lease.parameters().get(CNF_X5T));
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("iss", issuer);
        claims.put("sub", lease.holder().toString());
        claims.put("aud", lease.resource());
        claims.put("client_id", lease.parameters().getOrDefault(CLIENT_ID, lease.holder().toString()));
        if (!scope.isEmpty()) {
            claims.put("scope", scope);
        }
        claims.put("jti", jti);
        claims.put("iat", lease.issuedAt().getEpochSecond());
        claims.put("exp", lease.expiresAt().getEpochSecond());
        lease.task().ifPresent(task -> claims.put("task", task));
        if (!lease.delegation().isEmpty()) {
            // delegation is one level deep: the actor token is a jwt-svid, which never carries act
            claims.put("act", Map.of("sub", lease.delegation().get(0).toString()));
        }
        x5t.ifPresent(thumbprint -> claims.put("cnf", Map.of("x5t#S256", thumbprint)));
        Map<String, String> details = new LinkedHashMap<>();
        details.put("jti", jti);
        if (!scope.isEmpty()) {
            details.put("scope", scope);
        }
        return signAndRegister(lease, claims, JwtSvidVerifier.ACCESS_TOKEN_TYP, "access_token", scope, x5t, details);
    }

    @Override
    public void renew(LeaseGrant lease, Instant newExpiry) {
        throw new BrokerException.Rejected("an access token cannot be extended; exchange for a new one");
    }

    private static boolean isSpiffeId(String value) {
        try {
            SpiffeId.parse(value);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
