package dev.sigil.server.token;

import dev.sigil.server.credential.Broker;
import dev.sigil.server.credential.BrokerException;
import dev.sigil.server.credential.Granted;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.datastore.Datastore;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code token} broker: the token service's access tokens as leases. Token exchange records every
 * issued token as an active lease whose id is the token's {@code jti} (in the same transaction as the
 * token's registry row and audit record), so the lease commands list, revoke and find leaked tokens like
 * any other credential. Tokens are minted only by token exchange ({@code POST /oauth2/token}), never by
 * {@link #grant}.
 *
 * <p>Revoking the lease revokes the token: its registry row reads revoked (introspection says inactive)
 * and its bit is set on the status list; idempotent. Tokens cannot be extended ({@link #renew} rejects).
 */
public final class TokenBroker implements Broker {
    public static final String TYPE = "token";
    private static final Pattern JWT = Pattern.compile("[A-Za-z0-9_=-]+\\.[A-Za-z0-9_=-]+\\.[A-Za-z0-9_=-]+");

    private final Datastore datastore;
    private final IssuedTokens issued;
    private final Clock clock;

    public TokenBroker(Datastore datastore, IssuedTokens issued, Clock clock) {
        this.datastore = datastore;
        this.issued = issued;
        this.clock = clock;
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public void check(String resource, Map<String, String> parameters) {
        throw new BrokerException.Rejected("access tokens are issued by token exchange (POST /oauth2/token with audience "
                + "'" + resource + "'), not through the token broker");
    }

    @Override
    public Granted grant(LeaseGrant lease) {
        throw new BrokerException.Rejected("access tokens are issued by token exchange (POST /oauth2/token), not through the token broker");
    }

    @Override
    public void renew(LeaseGrant lease, Instant newExpiry) {
        throw new BrokerException.Rejected("an access token cannot be extended; exchange for a new one");
    }

    @Override
    public void revoke(LeaseGrant lease) {
        try {
            datastore.inTransaction(connection -> issued.revoke(connection, lease.id().value(), clock.instant()));
        } catch (RuntimeException e) {
            throw new BrokerException.Unavailable("cannot revoke access token " + lease.id() + ": " + e.getMessage(), e);
        }
    }

    /** A signed token is dead after its {@code exp}; nothing is left to revoke at expiry. */
    @Override
    public boolean expiresByItself() {
        return true;
    }

    @Override
    public Optional<Set<LeaseId>> granted() {
        return Optional.empty();
    }

    @Override
    public Optional<String> leakKey(String reported) {
        String token = reported.strip();
        if (token.regionMatches(true, 0, "Bearer ", 0, 7)) {
            token = token.substring(7).strip();
        }
        // a copy re-encoded without the key (padding, unused bits, ecdsa (r, n-s)) still verifies for
        // lenient relying parties: look up the one form Sigil signed
        return JWT.matcher(token).matches() ? dev.sigil.core.crypto.JwsCanonical.canonical(token) : Optional.empty();
    }
}
