package dev.sigil.server.tls;

import java.nio.file.Path;

/**
 * The source of a TLS listener's own certificate and key. Consulted on every handshake, so a rotation
 * takes effect for new connections without restarting the listener; implementations return an
 * immutable snapshot and must be fast and thread-safe (hold the current value in a volatile field or
 * an {@code AtomicReference} and swap it on rotation).
 */
@FunctionalInterface
public interface TlsMaterial {
    /** The identity to present now; throws {@link IllegalStateException} when none is available yet. */
    TlsIdentity current();

    /**
     * Material read from a PEM certificate chain file and a PEM private key file (PKCS#8, SEC1 or
     * PKCS#1), re-read when either file's modification time changes (for certificates renewed by an
     * ACME client). Fails at once when the files are unreadable or the key does not match the leaf.
     */
    static TlsMaterial fromPemFiles(Path certFile, Path keyFile) {
        return new PemFileTlsMaterial(certFile, keyFile);
    }
}
