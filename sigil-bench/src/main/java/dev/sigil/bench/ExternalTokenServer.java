package dev.sigil.bench;

import dev.sigil.bench.ServerProcesses.Server;
import dev.sigil.cli.AdminClient;
import dev.sigil.testkit.PostgresServer;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One {@code bin/sigil server run} process as users start it (the launcher's server profile), on SQLite
 * in its data directory or on a {@link PostgresServer} of its own, with the exchange policy applied and
 * a pool of subject tokens minted through its admin API, for {@link TokenExchangeBench}'s
 * {@code --server sqlite|postgresql}. {@code SIGIL_JAVA_OPTS} and {@code SIGIL_HEAP} of the bench's
 * environment reach the server (e.g. a flight recording or a GC log).
 */
final class ExternalTokenServer implements AutoCloseable {
    static final String ISSUER = "https://sigil.bench";

    private final Server server;
    private final Optional<PostgresServer> postgres;
    private final Optional<Long> postmaster;
    private final String[] bodies;

    private ExternalTokenServer(Server server, Optional<PostgresServer> postgres, Optional<Long> postmaster, String[] bodies) {
        this.server = server;
        this.postgres = postgres;
        this.postmaster = postmaster;
        this.bodies = bodies;
    }

    /** Starts {@code sigil} ({@code bin/sigil} of some checkout) on {@code datastore} ("sqlite" or "postgresql"). */
    static ExternalTokenServer start(Path sigil, String datastore, Path dir, String subject, String audience, String policy,
                                     int poolSize) throws Exception {
        Optional<PostgresServer> postgres = Optional.empty();
        Optional<Long> postmaster = Optional.empty();
        Path config;
        switch (datastore) {
            case "sqlite" -> config = ServerProcesses.writeSqliteConfig(dir, ISSUER);
            case "postgresql" -> {
                postgres = Optional.of(PostgresServer.start());
                PostgresServer.Database database = postgres.get().createDatabase();
                postmaster = Optional.of(ServerProcesses.postmasterOf(database));
                config = ServerProcesses.writeConfig(dir, database, ISSUER);
            }
            default -> throw new IllegalArgumentException("--server is '" + datastore + "'; expected in-process, sqlite or postgresql");
        }
        Server server = ServerProcesses.start(sigil, dir, config, 0);
        try {
            ServerProcesses.awaitHealthy(sigil, server);
            String[] bodies = new String[poolSize];
            try (AdminClient admin = new AdminClient(server.adminSocket())) {
                check(admin.put("/v1/policy", Map.of("yaml", policy)), "applying the policy");
                for (int i = 0; i < poolSize; i++) {
                    AdminClient.Answer minted = check(admin.post("/v1/svids/jwt", Map.of("spiffe_id", subject,
                            "audience", List.of(ISSUER + "/oauth2/token"), "ttl", 3600)), "minting a subject token");
                    bodies[i] = "grant_type=" + enc("urn:ietf:params:oauth:grant-type:token-exchange")
                            + "&subject_token_type=" + enc("urn:ietf:params:oauth:token-type:jwt")
                            + "&subject_token=" + enc(minted.json().path("token").asText()) + "&audience=" + enc(audience);
                }
            }
            return new ExternalTokenServer(server, postgres, postmaster, bodies);
        } catch (Exception | Error e) {
            ServerProcesses.stop(List.of(server));
            postgres.ifPresent(PostgresServer::close);
            throw e;
        }
    }

    URI tokenUri() {
        return URI.create("https://127.0.0.1:" + server.tokenPort() + "/oauth2/token");
    }

    String[] bodies() {
        return bodies;
    }

    long pid() {
        return server.process().pid();
    }

    /** User plus system CPU of the server process, in microseconds. */
    long cpuMicros() {
        return ServerProcesses.cpuMicros(pid());
    }

    /** CPU of this run's PostgreSQL (0 on SQLite), in microseconds. */
    long postgresCpuMicros() {
        return postmaster.map(ServerProcesses::postgresTreeCpuMicros).orElse(0L);
    }

    Path data() {
        return server.data();
    }

    @Override
    public void close() throws InterruptedException {
        try {
            ServerProcesses.stop(List.of(server));
        } finally {
            postgres.ifPresent(PostgresServer::close);
        }
    }

    private static AdminClient.Answer check(AdminClient.Answer answer, String what) {
        if (answer.status() / 100 != 2) {
            throw new IllegalStateException(what + " failed: " + answer.status() + " " + answer.body());
        }
        return answer;
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
