package dev.sigil.server.token;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.credential.LeaseException;
import dev.sigil.server.credential.LeaseService;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A brokered credential through token exchange ({@code requested_token_type}
 * {@value #TYPE_PREFIX}{@code <broker>}): the same lease as {@code POST /v1/credentials} (policy action
 * {@code credential:issue}, the lease recorded before the backend grant, audit), answered in RFC 8693
 * form — the credential's fields as a JSON object string in {@code access_token}, {@code issued_token_type}
 * the requested type, {@code token_type} {@code N_A}, {@code expires_in}, plus {@code lease_id}. The
 * caller has already verified the subject (and actor) and passed the drift gate.
 */
final class BrokeredExchange {
    static final String TYPE_PREFIX = "urn:sigil:params:oauth:token-type:credential:";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final LeaseService leases;
    private final Clock clock;

    BrokeredExchange(LeaseService leases, Clock clock) {
        this.leases = leases;
        this.clock = clock;
    }

    String issue(String type, SpiffeId subject, boolean mutualTls, List<SpiffeId> chain, String resource, Optional<String> taskId) {
        String broker = type.substring(TYPE_PREFIX.length());
        LeaseService.Issued issued;
        try {
            issued = leases.issue(new LeaseService.IssueRequest(subject, mutualTls, chain, broker, resource, taskId, Optional.empty(),
                    Map.of()));
        } catch (LeaseException e) {
            // the lease service has audited its refusal (credential.issue denied)
            throw new OAuthException(e.status(), e.error(), e.getMessage()).audited();
        }
        Map<String, Object> response = new LinkedHashMap<>();
        response.put("access_token", write(issued.secret().revealToHolder()));
        response.put("issued_token_type", type);
        response.put("token_type", "N_A");
        response.put("expires_in", Math.max(0, Duration.between(clock.instant(), issued.lease().expiresAt()).toSeconds()));
        response.put("lease_id", issued.lease().id().value());
        return write(response);
    }

    private static String write(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write json: " + e.getMessage(), e);
        }
    }
}
