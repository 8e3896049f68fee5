package dev.sigil.server.registration;

import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A join token just generated: the only time its secret value exists outside the node that will
 * present it (the server keeps only its SHA-256). Hand the value to the operator once and drop this
 * object. {@link #toString()} never shows the secret; {@link #id()} is a non-secret reference for
 * logs and audit records.
 */
public final class IssuedJoinToken {
    private final String secretValue;
    private final String id;
    private final Optional<SpiffeId> spiffeId;
    private final Instant expiresAt;

    IssuedJoinToken(String secretValue, String id, Optional<SpiffeId> spiffeId, Instant expiresAt) {
        this.secretValue = Objects.requireNonNull(secretValue, "secretValue");
        this.id = Objects.requireNonNull(id, "id");
        this.spiffeId = Objects.requireNonNull(spiffeId, "spiffeId");
        this.expiresAt = Objects.requireNonNull(expiresAt, "expiresAt");
    }

    /** The secret token a node presents to attest. Grep for this name to find every place it is revealed. */
    public String revealSecretValue() {
        return secretValue;
    }

    /** A non-secret reference to the token: a prefix of its SHA-256, as used in audit records. */
    public String id() {
        return id;
    }

    /** The SPIFFE ID the attested node gets, when the token names one. */
    public Optional<SpiffeId> spiffeId() {
        return spiffeId;
    }

    public Instant expiresAt() {
        return expiresAt;
    }

    @Override
    public String toString() {
        return "IssuedJoinToken[id=" + id + ", spiffeId=" + spiffeId.map(SpiffeId::toString).orElse("none")
                + ", expiresAt=" + expiresAt + "]";
    }
}
