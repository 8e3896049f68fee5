package dev.sigil.server.token;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.Printable;
import dev.sigil.server.authority.Authority;
import dev.sigil.server.credential.BrokerException;
import dev.sigil.server.credential.CredentialSecret;
import dev.sigil.server.credential.Granted;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.credential.LocalBroker;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.status.StatusRef;
import dev.sigil.server.status.TokenStatusRegistry;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the token service's two local brokers share: a JWT signed by the trust domain's JWT authority, with
 * a row in the token registry ({@link IssuedTokens}) and a status list entry, both written with the lease
 * and its audit record (no row, never active). Revoking the lease marks the row revoked and sets the status
 * bit; a token is dead after its {@code exp}, so nothing is left to revoke at expiry; a leak report finds
 * the token by the one form Sigil signed.
 */
abstract sealed class RegisteredTokenBroker implements LocalBroker permits TokenBroker, TxnTokenBroker {
    private static final Pattern JWT = Pattern.compile("[A-Za-z0-9_=-]+\\.[A-Za-z0-9_=-]+\\.[A-Za-z0-9_=-]+");
    private static final ObjectMapper JSON = new ObjectMapper();

    final String issuer;
    final Authority authority;
    final TokenStatusRegistry statuses;
    final IssuedTokens issued;
    final Datastore datastore;
    final Clock clock;

    RegisteredTokenBroker(String issuer, Authority authority, TokenStatusRegistry statuses, IssuedTokens issued, Datastore datastore,
                          Clock clock) {
        this.issuer = issuer;
        this.authority = authority;
        this.statuses = statuses;
        this.issued = issued;
        this.datastore = datastore;
        this.clock = clock;
    }

    /** How errors name the token ("access token"). */
    abstract String noun();

    /**
     * Signs {@code claims} (with a fresh status list entry added) as a JWT of header {@code typ}, and returns
     * it with its records: the registry row for {@code lease} and the status entry.
     *
     * @param secretName the name under which the holder receives the token
     */
    Minted signAndRegister(LeaseGrant lease, Map<String, Object> claims, String typ, String secretName, String scope,
                           Optional<String> x5t, Map<String, String> details) {
        String jti = lease.id().value();
        StatusRef status = statuses.allocate();
        claims.put("status", statuses.claim(status));
        String token = authority.signJwt(write(claims), lease.expiresAt(), typ).compact();
        IssuedTokens.Row row = new IssuedTokens.Row(jti, lease.holder().toString(), lease.resource(), scope, lease.task(), x5t,
                lease.issuedAt(), lease.expiresAt(), Optional.empty(), Optional.of(status));
        Granted granted = new Granted(new CredentialSecret(Map.of(secretName, token), token), details);
        return new Minted(granted, transaction -> {
            issued.insert(transaction, row);
            // kind access_token: the status entry of a token in the registry, whose row holds its position
            statuses.record(transaction, status, TokenStatusRegistry.Kind.ACCESS_TOKEN, jti, lease.holder(), lease.expiresAt());
        });
    }

    /** Mints and commits the token's records in a transaction of their own (no lease row: see {@link LocalBroker}). */
    @Override
    public Granted grant(LeaseGrant lease) {
        Minted minted = mint(lease);
        try {
            datastore.transaction(transaction -> {
                minted.records().write(transaction);
                return null;
            });
        } catch (RuntimeException e) {
            throw new BrokerException.Unavailable("cannot record " + noun() + " " + lease.id() + ": " + Printable.reason(e), e);
        }
        return minted.granted();
    }

    @Override
    public void revoke(LeaseGrant lease) {
        try {
            datastore.transaction(transaction -> issued.revoke(transaction, lease.id().value(), clock.instant()));
        } catch (RuntimeException e) {
            throw new BrokerException.Unavailable("cannot revoke " + noun() + " " + lease.id() + ": " + Printable.reason(e), e);
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

    /** The token's {@code jti}, its lease id, read without verifying the token (the leak hash check does that). */
    @Override
    public Optional<LeaseId> namedLease(String leakKey) {
        try {
            String jti = com.nimbusds.jwt.SignedJWT.parse(leakKey).getJWTClaimsSet().getJWTID();
            return jti == null ? Optional.empty() : Optional.of(LeaseId.parse(jti));
        } catch (java.text.ParseException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    static String write(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the token's claims as json: " + e.getMessage(), e);
        }
    }
}
