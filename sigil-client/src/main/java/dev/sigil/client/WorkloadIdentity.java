package dev.sigil.client;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A workload authenticated by a verified WIT-SVID and, for a request, a workload proof token (WPT) made with the
 * key the WIT-SVID binds. Immutable.
 *
 * @param spiffeId    the WIT-SVID's {@code sub}
 * @param expiresAt   the WIT-SVID's {@code exp}
 * @param keyId       the {@code kid} of the trust domain's {@code wit-svid} key that signed it
 * @param claims      every claim of the WIT-SVID ({@code cnf} included)
 * @param proofId     the WPT's {@code jti} (empty when only the WIT-SVID was verified)
 */
public record WorkloadIdentity(String spiffeId, Instant expiresAt, String keyId, Map<String, Object> claims, Optional<String> proofId) {
    public WorkloadIdentity {
        Objects.requireNonNull(spiffeId, "spiffeId");
        Objects.requireNonNull(expiresAt, "expiresAt");
        Objects.requireNonNull(keyId, "keyId");
        claims = Map.copyOf(claims);
        Objects.requireNonNull(proofId, "proofId");
    }

    WorkloadIdentity withProof(String jti) {
        return new WorkloadIdentity(spiffeId, expiresAt, keyId, claims, Optional.of(jti));
    }
}
