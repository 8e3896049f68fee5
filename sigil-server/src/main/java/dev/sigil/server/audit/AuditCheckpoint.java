package dev.sigil.server.audit;

import java.time.Instant;
import java.util.Objects;

/**
 * A signed statement that the audit chain, at {@code time}, ended at record {@code seq} with hash
 * {@code headHash}. {@code publicKey} is the base64 DER (SubjectPublicKeyInfo) key that signed it and
 * {@code signature} the base64 DER ECDSA signature over {@link AuditCheckpoints#signedBytes}.
 */
public record AuditCheckpoint(long id, long seq, String headHash, Instant time, String keyId, String publicKey,
        String signature) {
    public AuditCheckpoint {
        if (id < 1 || seq < 0) {
            throw new IllegalArgumentException("checkpoint id must be >= 1 and seq >= 0, got id " + id + " seq " + seq);
        }
        Objects.requireNonNull(headHash, "headHash");
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(publicKey, "publicKey");
        Objects.requireNonNull(signature, "signature");
    }
}
