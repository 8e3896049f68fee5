package dev.sigil.client;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A verified Sigil access token (RFC 9068 {@code at+jwt}).
 *
 * @param subject   the SPIFFE ID of the workload it was issued to
 * @param clientId  the client that asked (the mutual TLS peer, the actor, or the subject)
 * @param actor     the workload acting on the subject's behalf ({@code act.sub}), when delegated
 * @param task      the task it was granted under, when one was named
 * @param jti       its id, which {@code sigil lease} and the audit trail address
 */
public record AccessToken(String subject, List<String> audience, Set<String> scopes, String clientId, Optional<String> actor,
                          Optional<String> task, String jti, Instant issuedAt, Instant expiresAt) {
    public AccessToken {
        audience = List.copyOf(audience);
        scopes = Set.copyOf(scopes);
    }

    public boolean hasScope(String scope) {
        return scopes.contains(scope);
    }
}
