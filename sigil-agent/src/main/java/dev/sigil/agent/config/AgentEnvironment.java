package dev.sigil.agent.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What the agent configuration may read from the process's surroundings: environment variables, the
 * home directory and whether the process runs as root. Passed in so loading is testable.
 */
public record AgentEnvironment(Map<String, String> variables, Path userHome, boolean root) {
    public AgentEnvironment {
        variables = Map.copyOf(Objects.requireNonNull(variables, "variables"));
        Objects.requireNonNull(userHome, "userHome");
    }

    /** The real process environment. */
    public static AgentEnvironment system() {
        boolean root;
        try {
            root = Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (Exception e) {
            root = "root".equals(System.getProperty("user.name"));
        }
        return new AgentEnvironment(System.getenv(), Path.of(System.getProperty("user.home")), root);
    }

    /** A non-root environment with the given variables and home directory (tests). */
    public static AgentEnvironment of(Map<String, String> variables, Path userHome) {
        return new AgentEnvironment(variables, userHome, false);
    }

    /** A variable's value; empty when unset or blank. */
    public Optional<String> variable(String name) {
        String value = variables.get(name);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
    }

    /** {@code /var/lib/sigil-agent} for root, otherwise {@code ~/.local/share/sigil-agent}. */
    public Path defaultDataDir() {
        return root ? Path.of("/var/lib/sigil-agent") : userHome.resolve(".local/share/sigil-agent");
    }

    @Override
    public String toString() {
        return "AgentEnvironment[userHome=" + userHome + ", root=" + root + ", variables=<" + variables.size() + " hidden>]";
    }
}
