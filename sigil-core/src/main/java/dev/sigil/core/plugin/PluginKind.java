package dev.sigil.core.plugin;

import java.util.Collection;
import java.util.Objects;

/**
 * One kind of plugin: which program runs it, the configuration section its blocks live under and how
 * many may be configured. The server's kinds are in {@code dev.sigil.server.config.ServerPlugins}, the
 * agent's in {@code dev.sigil.agent.config.AgentPlugins}.
 *
 * @param program     {@code server} or {@code agent}: a server and an agent plugin of one name (the two
 *                    sides of {@code x509pop}) are different plugins
 * @param section     the top-level configuration key, e.g. {@code brokers}
 * @param singular    how messages name one plugin of the kind, e.g. {@code broker}
 * @param cardinality how many blocks the section may hold
 */
public record PluginKind(String program, String section, String singular, Cardinality cardinality) {
    public PluginKind {
        Objects.requireNonNull(program, "program");
        Objects.requireNonNull(section, "section");
        Objects.requireNonNull(singular, "singular");
        Objects.requireNonNull(cardinality, "cardinality");
    }

    /** How many plugins of a kind run. */
    public enum Cardinality {
        EXACTLY_ONE, ONE_OR_MORE, ZERO_OR_MORE;

        /** Refuses {@code configured} (the type names in the section) when there are too many or too few. */
        public void check(PluginKind kind, Collection<String> configured) {
            boolean ok = switch (this) {
                case EXACTLY_ONE -> configured.size() == 1;
                case ONE_OR_MORE -> !configured.isEmpty();
                case ZERO_OR_MORE -> true;
            };
            if (!ok) {
                throw new PluginException(kind.section() + " configures " + (configured.isEmpty() ? "no " + kind.singular()
                        : String.join(", ", configured)) + "; " + (this == EXACTLY_ONE ? "exactly one" : "at least one")
                        + " is required");
            }
        }
    }
}
