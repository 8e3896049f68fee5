package dev.sigil.server.credential;

import java.util.Map;
import java.util.Objects;

/**
 * What a broker granted for one lease: the secret for the holder, and non-secret details that are
 * stored with the lease, shown to operators and audited (the role name, the certificate serial and
 * key id, the token's jti).
 */
public record Granted(CredentialSecret secret, Map<String, String> details) {
    public Granted {
        Objects.requireNonNull(secret, "secret");
        details = Map.copyOf(details);
    }
}
