package dev.sigil.server.token;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.sigil.server.status.TokenStatusRegistry;
import java.util.Map;
import java.util.Optional;

/**
 * Revocation of the JWT-SVIDs presented to the token service (subject, actor and bearer tokens).
 *
 * <p>Security property: a token whose {@code jti} is in this server's access token registry is refused
 * (an access token minted before access tokens had their own {@code typ}, which would otherwise pass for a
 * JWT-SVID); a token with a {@code status} claim is accepted only while its status list entry exists
 * and reads valid, so revoking a JWT-SVID (drift, ban, leak, operator) takes effect at the next request,
 * not at its expiry. A {@code status} claim that is not a well-formed status list reference is refused.
 * JWT-SVIDs minted without a status claim can only expire.
 */
final class SvidRevocation implements JwtSvidVerifier.SvidStatus {
    private final IssuedTokens issued;
    private final Optional<TokenStatusRegistry> statuses;

    SvidRevocation(IssuedTokens issued, Optional<TokenStatusRegistry> statuses) {
        this.issued = issued;
        this.statuses = statuses;
    }

    @Override
    public Optional<String> refusal(JWTClaimsSet claims) {
        String jti = claims.getJWTID();
        if (jti != null && issued.find(jti).isPresent()) {
            return Optional.of("is an access token of this server, not a jwt-svid");
        }
        Object status = claims.getClaim("status");
        if (status == null) {
            return Optional.empty();
        }
        if (!(status instanceof Map<?, ?> statusClaim) || !(statusClaim.get("status_list") instanceof Map<?, ?> list)
                || !(list.get("uri") instanceof String uri) || !(list.get("idx") instanceof Number idx)) {
            return Optional.of("has a status claim that is not a status list reference (status_list with uri and idx)");
        }
        if (statuses.isEmpty()) {
            return Optional.of("names a status list, but this server keeps none; it cannot tell whether the token was revoked");
        }
        Optional<Integer> state = statuses.get().status(uri, idx.longValue());
        if (state.isEmpty()) {
            return Optional.of("names status list entry " + idx.longValue() + " that this server does not know");
        }
        return state.get() == 0 ? Optional.empty() : Optional.of("was revoked (status list entry " + idx.longValue() + ")");
    }
}
