package dev.sigil.server.credential.ssh;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Configuration of the {@code ssh} broker ({@code brokers.ssh} in the server configuration).
 *
 * @param resources       the host groups certificates can be requested for (what a lease's
 *                        {@code resource} must be, and what policy rules name in {@code resources});
 *                        at least one, each 1 to 128 characters of {@code A-Z a-z 0-9 . _ - : /}
 * @param revokedKeysFile where revoked workload public keys are written for sshd's {@code RevokedKeys};
 *                        without one, a revoked certificate stays valid until it expires
 */
public record SshBrokerSettings(Set<String> resources, Optional<Path> revokedKeysFile) {
    private static final Pattern RESOURCE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}");

    public SshBrokerSettings {
        Objects.requireNonNull(resources, "resources");
        Objects.requireNonNull(revokedKeysFile, "revokedKeysFile");
        if (resources.isEmpty()) {
            throw new IllegalArgumentException("ssh broker has no resources; list at least one host group, e.g. [prod-hosts]");
        }
        for (String resource : resources) {
            if (resource == null || !RESOURCE.matcher(resource).matches()) {
                throw new IllegalArgumentException("ssh broker resource '" + resource + "' is invalid; use 1 to 128"
                        + " characters of A-Z, a-z, 0-9, '.', '_', '-', ':' and '/', starting with a letter or digit");
            }
        }
        resources = Set.copyOf(resources);
        revokedKeysFile = revokedKeysFile.map(path -> path.toAbsolutePath().normalize());
    }
}
