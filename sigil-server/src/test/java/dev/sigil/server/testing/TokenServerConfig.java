package dev.sigil.server.testing;

import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.config.ServerConfigLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The configuration the token service tests share, loaded from a YAML file as an operator's would be:
 * trust domain {@code example.org}, JWT issuer {@code https://sigil.example.org}, data under
 * {@code dir/data}, no bundle endpoint, agent API and token endpoint on free ports.
 */
public final class TokenServerConfig {
    private TokenServerConfig() {
    }

    public static ServerConfig load(Path dir) throws IOException {
        return load(dir, "");
    }

    /** With {@code tokenEndpoint}: more keys of the {@code token_endpoint} block, one per line, unindented. */
    public static ServerConfig load(Path dir, String tokenEndpoint) throws IOException {
        Path file = dir.resolve("sigil.yaml");
        StringBuilder extra = new StringBuilder();
        tokenEndpoint.lines().filter(line -> !line.isBlank()).forEach(line -> extra.append("  ").append(line).append('\n'));
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                jwt:
                  issuer: https://sigil.example.org
                bundle_endpoint:
                  enabled: false
                agent_api:
                  port: 0
                token_endpoint:
                  port: 0
                """.formatted(dir.resolve("data")) + extra);
        return ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
    }

    /**
     * The same server on a PostgreSQL database: data under {@code dir/<name>}, the password from
     * {@code SIGIL_DATASTORE_PASSWORD} as operators pass it, the audit hmac key every server of {@code dir}
     * shares ({@code dir/audit-hmac.key}), and {@code extra} top-level YAML (such as a shared
     * {@code key_manager} block) appended.
     */
    public static ServerConfig onPostgres(Path dir, String name, dev.sigil.testkit.PostgresServer.Database database, String extra)
            throws IOException {
        Path key = dir.resolve("audit-hmac.key");
        if (!Files.exists(key)) {
            byte[] bytes = new byte[32];
            new java.security.SecureRandom().nextBytes(bytes);
            Files.write(key, bytes);
            Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        }
        // servers of one test join each other quickly (ca.join_delay) unless extra says otherwise
        String ca = extra.contains("ca:") ? "" : "ca:\n  join_delay: 1s\n";
        return onPostgresWith(dir, name, database, "audit:\n  hmac_key_file: " + key + "\n  checkpoint_interval: 1s\n" + ca + extra);
    }

    /** {@link #onPostgres} with this server's own audit hmac key (in its data directory) unless {@code extra} names one. */
    public static ServerConfig onPostgresWith(Path dir, String name, dev.sigil.testkit.PostgresServer.Database database, String extra)
            throws IOException {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: error
                datastore:
                  type: postgresql
                  url: %s
                  user: %s
                jwt:
                  issuer: https://sigil.example.org
                bundle_endpoint:
                  enabled: false
                agent_api:
                  port: 0
                token_endpoint:
                  port: 0
                """.formatted(dir.resolve(name), database.jdbcUrl(), database.user()) + extra);
        return ServerConfigLoader.load(Optional.of(file),
                ConfigEnvironment.of(Map.of(ServerConfigLoader.SIGIL_DATASTORE_PASSWORD, database.password()), dir), ConfigOverrides.none());
    }
}
