package dev.sigil.server.config;

import dev.sigil.core.time.Durations;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The {@code brokers:} section: which credential brokers run, each with the lifetimes of its leases
 * and its own settings. An absent block means that broker is not offered. Holds no secret: the
 * PostgreSQL admin password stays in its file until the broker is built.
 */
public record BrokerSettings(Optional<Postgresql> postgresql, Optional<Ssh> ssh) {
    public static final Duration DEFAULT_TTL = Duration.ofMinutes(15);
    public static final Duration DEFAULT_MAX_TTL = Duration.ofHours(1);

    public BrokerSettings {
        Objects.requireNonNull(postgresql, "brokers.postgresql");
        Objects.requireNonNull(ssh, "brokers.ssh");
    }

    public static BrokerSettings none() {
        return new BrokerSettings(Optional.empty(), Optional.empty());
    }

    /** {@code default_ttl} (default 15m) and {@code max_ttl} (default 1h) of one broker's leases. */
    public record Ttls(String broker, Duration defaultTtl, Duration maxTtl) {
        public Ttls {
            ServerConfig.positive("brokers." + broker + ".default_ttl", defaultTtl);
            ServerConfig.positive("brokers." + broker + ".max_ttl", maxTtl);
            if (defaultTtl.toSeconds() < 1) {
                throw new ConfigException("brokers." + broker + ".default_ttl is " + Durations.format(defaultTtl) + "; it must be at least 1s");
            }
            if (maxTtl.compareTo(defaultTtl) < 0) {
                throw new ConfigException("brokers." + broker + ".max_ttl (" + Durations.format(maxTtl) + ") must be at least default_ttl ("
                        + Durations.format(defaultTtl) + ")");
            }
        }
    }

    /**
     * {@code brokers.postgresql}: per lease a login role on the database at {@code url}, created with the
     * admin credential ({@code admin_user}, password read from {@code admin_password_file}).
     */
    public record Postgresql(Ttls ttls, String url, String adminUser, Path adminPasswordFile, String rolePrefix,
                             Map<String, Resource> resources) {
        public Postgresql {
            Objects.requireNonNull(ttls, "ttls");
            if (url == null || !url.startsWith("jdbc:postgresql:")) {
                throw new ConfigException("brokers.postgresql.url is " + (url == null ? "missing" : "'" + url + "'")
                        + "; use a jdbc url such as jdbc:postgresql://127.0.0.1:5432/app");
            }
            if (adminUser == null || adminUser.isBlank()) {
                throw new ConfigException("brokers.postgresql.admin_user is required");
            }
            adminPasswordFile = ServerConfig.absolute("brokers.postgresql.admin_password_file", adminPasswordFile);
            if (rolePrefix == null || !rolePrefix.matches("[a-z_][a-z0-9_]{0,15}")) {
                throw new ConfigException("brokers.postgresql.role_prefix '" + rolePrefix
                        + "' must be 1 to 16 characters of a-z, 0-9 and _, not starting with a digit");
            }
            if (resources == null || resources.isEmpty()) {
                throw new ConfigException("brokers.postgresql.resources is empty; name at least one resource with its member_of roles");
            }
            resources = Map.copyOf(new TreeMap<>(resources));
        }
    }

    /** One PostgreSQL resource: the group roles a lease's role joins, and its connection limit. */
    public record Resource(List<String> memberOf, int connectionLimit) {
        public Resource {
            memberOf = List.copyOf(memberOf);
            if (connectionLimit < 1) {
                throw new ConfigException("brokers.postgresql.resources.*.connection_limit is " + connectionLimit + "; it must be at least 1");
            }
        }
    }

    /** {@code brokers.ssh}: OpenSSH certificates for the named resources (host groups). */
    public record Ssh(Ttls ttls, Set<String> resources, Optional<Path> revokedKeysFile) {
        public Ssh {
            Objects.requireNonNull(ttls, "ttls");
            resources = Set.copyOf(resources);
            if (resources.isEmpty()) {
                throw new ConfigException("brokers.ssh.resources is empty; name at least one resource");
            }
            revokedKeysFile = revokedKeysFile.map(p -> ServerConfig.absolute("brokers.ssh.revoked_keys_file", p));
        }
    }
}
