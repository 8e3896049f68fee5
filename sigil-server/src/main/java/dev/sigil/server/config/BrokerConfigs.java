package dev.sigil.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Applies the defaults of the {@code brokers:} section (see {@link BrokerSettings}). */
final class BrokerConfigs {
    static final String DEFAULT_ROLE_PREFIX = "sigil_";
    static final int DEFAULT_CONNECTION_LIMIT = 5;

    private BrokerConfigs() {
    }

    static BrokerSettings resolve(ConfigFile.Brokers file) {
        if (file == null) {
            return BrokerSettings.none();
        }
        return new BrokerSettings(Optional.ofNullable(file.postgresql()).map(BrokerConfigs::postgresql),
                Optional.ofNullable(file.ssh()).map(BrokerConfigs::ssh));
    }

    private static BrokerSettings.Postgresql postgresql(ConfigFile.PostgresqlBroker pg) {
        Map<String, BrokerSettings.Resource> resources = new LinkedHashMap<>();
        if (pg.resources() != null) {
            pg.resources().forEach((name, resource) -> {
                ConfigFile.PostgresqlResource r = resource == null ? new ConfigFile.PostgresqlResource(null, null) : resource;
                resources.put(name, new BrokerSettings.Resource(r.memberOf() == null ? List.of() : r.memberOf(),
                        r.connectionLimit() == null ? DEFAULT_CONNECTION_LIMIT : r.connectionLimit()));
            });
        }
        return new BrokerSettings.Postgresql(ttls("postgresql", pg.defaultTtl(), pg.maxTtl()), pg.url(), pg.adminUser(),
                pg.adminPasswordFile(), pg.rolePrefix() == null ? DEFAULT_ROLE_PREFIX : pg.rolePrefix(), resources);
    }

    private static BrokerSettings.Ssh ssh(ConfigFile.SshBroker ssh) {
        Set<String> names = new LinkedHashSet<>();
        JsonNode resources = ssh.resources();
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
        return new BrokerSettings.Ssh(ttls("ssh", ssh.defaultTtl(), ssh.maxTtl()), names, Optional.ofNullable(ssh.revokedKeysFile()));
    }

    private static BrokerSettings.Ttls ttls(String broker, java.time.Duration defaultTtl, java.time.Duration maxTtl) {
        return new BrokerSettings.Ttls(broker, defaultTtl == null ? BrokerSettings.DEFAULT_TTL : defaultTtl,
                maxTtl == null ? BrokerSettings.DEFAULT_MAX_TTL : maxTtl);
    }
}
