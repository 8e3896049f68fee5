package dev.sigil.server.credential.ssh;

import dev.sigil.core.plugin.NamedPlugin;
import com.fasterxml.jackson.databind.JsonNode;
import dev.sigil.server.config.ConfigException;
import dev.sigil.server.credential.Broker;
import dev.sigil.server.credential.BrokerPlugin;
import dev.sigil.server.credential.LeaseTtls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The {@code ssh} broker plugin: {@code brokers.ssh} in the server configuration (docs/credentials.md). */
public final class SshBrokerPlugin extends NamedPlugin<SshBrokerPlugin.Settings>
        implements BrokerPlugin<SshBrokerPlugin.Settings> {
    public static final String TYPE = "ssh";

    /**
     * {@code brokers.ssh}: OpenSSH certificates for the named resources (host groups). {@code resources} is a
     * map of name to {@code {}} (reserved for per-resource settings) or a list of names.
     */
    public record Settings(Duration defaultTtl, Duration maxTtl, JsonNode resources, Path revokedKeysFile) {
        public Settings {
            LeaseTtls ttls = LeaseTtls.of(TYPE, defaultTtl, maxTtl);
            defaultTtl = ttls.defaultTtl();
            maxTtl = ttls.maxTtl();
            if (resourceNames(resources).isEmpty()) {
                throw new ConfigException("brokers.ssh.resources is empty; name at least one resource");
            }
            revokedKeysFile = revokedKeysFile == null ? null : revokedKeysFile.toAbsolutePath().normalize();
        }

        /** The resource names, in file order. */
        public Set<String> resourceNames() {
            return resourceNames(resources);
        }

        public Optional<Path> revokedKeys() {
            return Optional.ofNullable(revokedKeysFile);
        }

        private static Set<String> resourceNames(JsonNode resources) {
            Set<String> names = new LinkedHashSet<>();
            if (resources != null && resources.isObject()) {
                for (Iterator<Map.Entry<String, JsonNode>> it = resources.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> entry = it.next();
                    if (!entry.getValue().isNull() && !(entry.getValue().isObject() && entry.getValue().isEmpty())) {
                        throw new ConfigException("brokers.ssh.resources." + entry.getKey() + " must be {} (no per-resource settings yet)");
                    }
                    names.add(entry.getKey());
                }
            } else if (resources != null && resources.isArray()) {
                for (JsonNode name : resources) {
                    if (!name.isTextual() || name.asText().isBlank()) {
                        throw new ConfigException("brokers.ssh.resources holds '" + name + "'; list resource names as strings");
                    }
                    names.add(name.asText());
                }
            } else if (resources != null && !resources.isNull()) {
                throw new ConfigException("brokers.ssh.resources must be a map of name to {} or a list of names");
            }
            return names;
        }
    }

    public SshBrokerPlugin() {
        super(TYPE, Settings.class);
    }

    @Override
    public LeaseTtls ttls(Settings settings) {
        return new LeaseTtls(settings.defaultTtl(), settings.maxTtl());
    }

    @Override
    public Broker create(Settings settings, Context context) {
        return SshBroker.create(new SshBrokerSettings(settings.resourceNames(), settings.revokedKeys()), context.keys(), context.clock());
    }
}
