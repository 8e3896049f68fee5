package dev.sigil.server.credential.postgresql;

import dev.sigil.core.plugin.NamedPlugin;
import dev.sigil.server.config.ConfigException;
import dev.sigil.server.credential.Broker;
import dev.sigil.server.credential.BrokerPlugin;
import dev.sigil.server.credential.Brokers;
import dev.sigil.server.credential.LeaseTtls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The {@code postgresql} broker plugin: {@code brokers.postgresql} in the server configuration (docs/credentials.md). */
public final class PostgresBrokerPlugin extends NamedPlugin<PostgresBrokerPlugin.Settings>
        implements BrokerPlugin<PostgresBrokerPlugin.Settings> {
    public static final String TYPE = "postgresql";
    static final String DEFAULT_ROLE_PREFIX = "sigil_";
    static final int DEFAULT_CONNECTION_LIMIT = 5;

    /**
     * {@code brokers.postgresql}: per lease a login role on the database at {@code url}, created with the admin
     * credential ({@code admin_user}, password read from {@code admin_password_file} when the broker is built,
     * so the settings hold no secret).
     */
    public record Settings(Duration defaultTtl, Duration maxTtl, String url, String adminUser, Path adminPasswordFile,
                           String rolePrefix, Map<String, Resource> resources, Integer poolSize) {
        public Settings {
            poolSize = poolSize == null ? PostgresBrokerSettings.DEFAULT_POOL_SIZE : poolSize;
            if (poolSize < 1 || poolSize > PostgresBrokerSettings.MAX_POOL_SIZE) {
                throw new ConfigException("brokers.postgresql.pool_size is " + poolSize + "; it must be 1 to "
                        + PostgresBrokerSettings.MAX_POOL_SIZE);
            }
            LeaseTtls ttls = LeaseTtls.of(TYPE, defaultTtl, maxTtl);
            defaultTtl = ttls.defaultTtl();
            maxTtl = ttls.maxTtl();
            if (url == null || !url.startsWith("jdbc:postgresql:")) {
                throw new ConfigException("brokers.postgresql.url is " + (url == null ? "missing" : "'" + url + "'")
                        + "; use a jdbc url such as jdbc:postgresql://127.0.0.1:5432/app");
            }
            if (adminUser == null || adminUser.isBlank()) {
                throw new ConfigException("brokers.postgresql.admin_user is required");
            }
            if (adminPasswordFile == null) {
                throw new ConfigException("brokers.postgresql.admin_password_file is required");
            }
            adminPasswordFile = adminPasswordFile.toAbsolutePath().normalize();
            rolePrefix = rolePrefix == null ? DEFAULT_ROLE_PREFIX : rolePrefix;
            if (!rolePrefix.matches("[a-z_][a-z0-9_]{0,15}")) {
                throw new ConfigException("brokers.postgresql.role_prefix '" + rolePrefix
                        + "' must be 1 to 16 characters of a-z, 0-9 and _, not starting with a digit");
            }
            if (resources == null || resources.isEmpty()) {
                throw new ConfigException("brokers.postgresql.resources is empty; name at least one resource with its member_of roles");
            }
            Map<String, Resource> sorted = new TreeMap<>();
            resources.forEach((name, resource) -> sorted.put(name, resource == null ? new Resource(null, null) : resource));
            resources = Map.copyOf(sorted);
        }
    }

    /** One resource: the group roles a lease's role joins, and its connection limit (default 5). */
    public record Resource(List<String> memberOf, Integer connectionLimit) {
        public Resource {
            memberOf = memberOf == null ? List.of() : List.copyOf(memberOf);
            connectionLimit = connectionLimit == null ? DEFAULT_CONNECTION_LIMIT : connectionLimit;
            if (connectionLimit < 1) {
                throw new ConfigException("brokers.postgresql.resources.*.connection_limit is " + connectionLimit
                        + "; it must be at least 1");
            }
        }
    }

    public PostgresBrokerPlugin() {
        super(TYPE, Settings.class);
    }

    @Override
    public LeaseTtls ttls(Settings settings) {
        return new LeaseTtls(settings.defaultTtl(), settings.maxTtl());
    }

    @Override
    public Broker create(Settings settings, Context context) {
        String adminPassword = Brokers.readSecretFile(settings.adminPasswordFile(), "brokers.postgresql.admin_password_file");
        Map<String, PostgresBrokerSettings.Resource> resources = new TreeMap<>();
        settings.resources().forEach((name, r) -> resources.put(name, new PostgresBrokerSettings.Resource(r.memberOf(),
                r.connectionLimit())));
        return PostgresBroker.create(new PostgresBrokerSettings(settings.url(), settings.adminUser(), adminPassword,
                settings.rolePrefix(), resources, settings.poolSize()), context.clock());
    }
}
