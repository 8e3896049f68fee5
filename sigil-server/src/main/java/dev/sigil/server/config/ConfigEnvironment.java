package dev.sigil.server.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What the configuration may read from the process's surroundings: environment variables, the home
 * directory and whether the process runs as root. Passed in explicitly so loading is testable and no
 * code below the CLI reads {@code System.getenv}.
 */
public record ConfigEnvironment(Map<String, String> variables, Path userHome, boolean root) {
    public ConfigEnvironment {
        variables = Map.copyOf(Objects.requireNonNull(variables, "variables"));
        Objects.requireNonNull(userHome, "userHome");
    }

    /** The real process environment. */
    public static ConfigEnvironment system() {
        boolean root;
        try {
            root = Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (Exception e) {
            root = "root".equals(System.getProperty("user.name"));
        }
        return new ConfigEnvironment(System.getenv(), Path.of(System.getProperty("user.home")), root);
    }

    /** A non-root environment with the given variables and home directory (tests). */
    public static ConfigEnvironment of(Map<String, String> variables, Path userHome) {
        return new ConfigEnvironment(variables, userHome, false);
    }

    /** A variable's value; empty when unset or blank. */
    public Optional<String> variable(String name) {
        String value = variables.get(name);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
    }

    /**
     * The data directory when neither a flag, {@code SIGIL_DATA_DIR} nor the file sets one:
     * {@code /var/lib/sigil} for root; otherwise {@code $XDG_DATA_HOME/sigil} when XDG_DATA_HOME is an
     * absolute path, else {@code ~/.local/share/sigil}.
     */
    public Path defaultDataDir() {
        if (root) {
            return Path.of("/var/lib/sigil");
        }
        Optional<Path> xdg = variable("XDG_DATA_HOME").map(Path::of).filter(Path::isAbsolute);
        return xdg.orElse(userHome.resolve(".local/share")).resolve("sigil");
    }
}
