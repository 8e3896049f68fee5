package dev.sigil.server.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Settings given as command-line flags; they win over the environment and the file. Values stay text
 * until the loader validates them, so errors can name the flag.
 */
public record ConfigOverrides(Optional<Path> dataDir, Optional<String> trustDomain, Optional<String> logLevel,
                              Optional<Path> adminSocket, Optional<Integer> bundlePort) {
    public ConfigOverrides {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(trustDomain, "trustDomain");
        Objects.requireNonNull(logLevel, "logLevel");
        Objects.requireNonNull(adminSocket, "adminSocket");
        Objects.requireNonNull(bundlePort, "bundlePort");
    }

    public static ConfigOverrides none() {
        return new ConfigOverrides(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
    }

    public ConfigOverrides withDataDir(Path dir) {
        return new ConfigOverrides(Optional.of(dir), trustDomain, logLevel, adminSocket, bundlePort);
    }

    public ConfigOverrides withAdminSocket(Path socket) {
        return new ConfigOverrides(dataDir, trustDomain, logLevel, Optional.of(socket), bundlePort);
    }

    public ConfigOverrides withTrustDomain(String domain) {
        return new ConfigOverrides(dataDir, Optional.of(domain), logLevel, adminSocket, bundlePort);
    }

    public ConfigOverrides withLogLevel(String level) {
        return new ConfigOverrides(dataDir, trustDomain, Optional.of(level), adminSocket, bundlePort);
    }
}
