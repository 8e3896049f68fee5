package dev.sigil.server.credential.postgresql;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.credential.Broker;
import dev.sigil.server.credential.BrokerException;
import dev.sigil.server.credential.CredentialSecret;
import dev.sigil.server.credential.Granted;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.credential.LeaseId;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.postgresql.util.PasswordUtil;

/**
 * The {@code postgresql} broker: one login role per lease in the configured database, created,
 * extended and dropped over a small pool of admin connections ({@link PostgresBrokerSettings#poolSize()}).
 *
 * <p>Guarantees, on top of the {@link Broker} contract:
 * <ul>
 *   <li>A grant is one transaction: the role ({@code LOGIN INHERIT}, nothing else; {@code CONNECTION
 *       LIMIT} and {@code VALID UNTIL} the lease's expiry), its group memberships and a JSON comment
 *       naming holder, lease, task and delegation chain appear together or not at all.</li>
 *   <li>The password has 256 random bits in the URL-safe base64 alphabet; only its SCRAM-SHA-256
 *       verifier is sent to the server, so it is in no statement, log or error message.</li>
 *   <li>PostgreSQL refuses new logins after {@code VALID UNTIL} by itself, so a Sigil outage does not
 *       extend access. Sessions already open stay open until revocation terminates them.</li>
 *   <li>Revocation first commits {@code NOLOGIN} and the loss of every group membership, then
 *       terminates the role's sessions (waiting for them to end), reassigns and drops what it owns in
 *       the configured database and drops the role. It finds the role from the lease id and the prefix
 *       alone and never touches a role without both.</li>
 * </ul>
 * Backend failures are {@link BrokerException.Unavailable}, with the SQL state and server message but
 * never a password.
 */
public final class PostgresBroker implements Broker, AutoCloseable {
    /** The type in configuration and requests. */
    public static final String TYPE = "postgresql";
    private static final int PASSWORD_BYTES = 32;
    /**
     * PBKDF2 iterations of the SCRAM-SHA-256 verifier. Key stretching protects guessable passwords;
     * these have 256 random bits, so PostgreSQL's default of 4,096 would buy nothing and cost ~1
     * PBKDF2 run on the server per grant (CREATE ROLE checks the secret is not that of an empty
     * password) and one on each side of every login.
     */
    static final int SCRAM_ITERATIONS = 256;
    private static final int SCRAM_SALT_BYTES = 16;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Told how long each database round trip of the broker took (for benchmarks and metrics). Called on
     * the broker's calling thread; must be fast and must not throw.
     */
    @FunctionalInterface
    public interface RoundTripListener {
        RoundTripListener NONE = (step, nanos) -> { };

        /** @param step what the round trip did ({@code grant}, {@code revoke-find}, {@code revoke-disarm}, {@code revoke-drop}, …) */
        void roundTrip(String step, long nanos);
    }

    private final PostgresBrokerSettings settings;
    private final Clock clock;
    private final HikariDataSource pool;
    private final RoleStatements statements;

    private PostgresBroker(PostgresBrokerSettings settings, Clock clock, HikariDataSource pool, RoleStatements statements) {
        this.settings = settings;
        this.clock = clock;
        this.pool = pool;
        this.statements = statements;
    }

    /**
     * A broker for {@code settings}. Does not connect yet: a database that is down at start-up makes
     * calls fail with {@link BrokerException.Unavailable} until it is back, not the server fail to start.
     */
    public static PostgresBroker create(PostgresBrokerSettings settings, Clock clock) {
        return create(settings, clock, RoundTripListener.NONE);
    }

    /** As {@link #create(PostgresBrokerSettings, Clock)}, reporting every database round trip to {@code timing}. */
    public static PostgresBroker create(PostgresBrokerSettings settings, Clock clock, RoundTripListener timing) {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(timing, "timing");
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName("sigil-broker-postgresql");
        hikari.setJdbcUrl(settings.url());
        hikari.setUsername(settings.adminUser());
        hikari.setPassword(settings.adminPassword());
        hikari.setMaximumPoolSize(settings.poolSize());
        hikari.setMinimumIdle(1);
        hikari.setAutoCommit(true);
        hikari.setInitializationFailTimeout(-1);
        hikari.setConnectionTimeout(5_000);
        hikari.addDataSourceProperty("ApplicationName", "sigil-broker");
        return new PostgresBroker(settings, clock, new HikariDataSource(hikari), new RoleStatements(settings.rolePrefix(), timing));
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public void check(String resource, Map<String, String> parameters) {
        resource(resource);
        if (!parameters.isEmpty()) {
            throw new BrokerException.Rejected("the postgresql broker takes no parameters, got " + new TreeSet<>(parameters.keySet()));
        }
    }

    @Override
    public Granted grant(LeaseGrant lease) {
        PostgresBrokerSettings.Resource resource = resource(lease.resource());
        requireFuture(lease.id(), lease.expiresAt());
        RoleName role = RoleName.of(settings.rolePrefix(), lease.holder(), lease.id());
        String password = newPassword();
        String verifier = scramVerifier(password);
        try (Connection connection = pool.getConnection()) {
            // one round trip: the statements go out together and commit together, or not at all
            statements.create(connection, role, verifier, lease.expiresAt(), resource.connectionLimit(), resource.memberOf(),
                    comment(lease));
        } catch (SQLException e) {
            throw unavailable("cannot create role " + role + " for lease " + lease.id(), e);
        }
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("username", role.value());
        fields.put("password", password);
        fields.put("url", settings.url());
        return new Granted(new CredentialSecret(fields, password), Map.of("role", role.value(), "database", settings.database()));
    }

    @Override
    public void renew(LeaseGrant lease, Instant newExpiry) {
        requireFuture(lease.id(), newExpiry);
        try (Connection connection = pool.getConnection()) {
            List<RoleStatements.Found> roles = statements.find(connection, lease.id());
            if (roles.isEmpty()) {
                throw new BrokerException.Rejected("lease " + lease.id() + " has no role with prefix '" + settings.rolePrefix()
                        + "' to renew; it was revoked or never granted");
            }
            for (RoleStatements.Found role : roles) {
                statements.validUntil(connection, role.name(), newExpiry);
            }
        } catch (SQLException e) {
            throw unavailable("cannot renew the role of lease " + lease.id(), e);
        }
    }

    @Override
    public void revoke(LeaseGrant lease) {
        revoke(lease.id());
    }

    /** {@link #revoke(LeaseGrant)} from the lease id alone. */
    void revoke(LeaseId lease) {
        try (Connection connection = pool.getConnection()) {
            for (RoleStatements.Found role : statements.find(connection, lease)) {
                revoke(connection, role);
            }
        } catch (SQLException e) {
            if (goneMeanwhile(lease)) {
                return;
            }
            throw unavailable("cannot revoke the role of lease " + lease, e);
        }
    }

    /** Two round trips, each its own transaction: the disarm is committed before any session is terminated. */
    private void revoke(Connection connection, RoleStatements.Found role) throws SQLException {
        statements.disarm(connection, role);
        statements.drop(connection, role.name());
    }

    /** True when a revocation that failed did so because another one removed the role first. */
    private boolean goneMeanwhile(LeaseId lease) {
        try (Connection connection = pool.getConnection()) {
            return statements.find(connection, lease).isEmpty();
        } catch (SQLException e) {
            return false;
        }
    }

    /** At most this many backend calls run at once; callers beyond it wait for an admin connection. */
    @Override
    public int parallelism() {
        return settings.poolSize();
    }

    @Override
    public Optional<Set<LeaseId>> granted() {
        try (Connection connection = pool.getConnection()) {
            return Optional.of(statements.list(connection).stream().map(RoleName::lease).collect(Collectors.toUnmodifiableSet()));
        } catch (SQLException e) {
            throw unavailable("cannot list the roles with prefix '" + settings.rolePrefix() + "'", e);
        }
    }

    /** A password can be any non-empty text; it is what a responder pastes, trimmed. */
    @Override
    public Optional<String> leakKey(String reported) {
        if (reported == null) {
            return Optional.empty();
        }
        String trimmed = reported.strip();
        return trimmed.isEmpty() ? Optional.empty() : Optional.of(trimmed);
    }

    /** Closes the admin connections. */
    @Override
    public void close() {
        pool.close();
    }

    private PostgresBrokerSettings.Resource resource(String name) {
        PostgresBrokerSettings.Resource resource = settings.resources().get(name);
        if (resource == null) {
            throw new BrokerException.Rejected("postgresql resource '" + name + "' is not configured; configured resources: "
                    + settings.resources().keySet());
        }
        return resource;
    }

    private void requireFuture(LeaseId lease, Instant expiry) {
        Instant now = clock.instant();
        if (!expiry.isAfter(now)) {
            throw new BrokerException.Rejected("lease " + lease + " would expire at " + expiry + ", which is not after now (" + now + ")");
        }
    }

    private static String comment(LeaseGrant lease) {
        ObjectNode comment = JSON.createObjectNode()
                .put("sigil_lease", lease.id().value())
                .put("broker", lease.broker())
                .put("holder", lease.holder().toString())
                .put("resource", lease.resource())
                .put("issued_at", lease.issuedAt().toString())
                .put("expires_at", lease.expiresAt().toString());
        lease.task().ifPresent(task -> comment.put("task", task));
        comment.putArray("delegation").addAll(lease.delegation().stream().map(SpiffeId::toString).map(comment::textNode).toList());
        try {
            return JSON.writeValueAsString(comment);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise the comment of lease " + lease.id(), e);
        }
    }

    private static String newPassword() {
        byte[] bytes = new byte[PASSWORD_BYTES];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static String scramVerifier(String password) {
        byte[] salt = new byte[SCRAM_SALT_BYTES];
        RANDOM.nextBytes(salt);
        return PasswordUtil.encodeScramSha256(password.toCharArray(), SCRAM_ITERATIONS, salt);
    }

    private static BrokerException.Unavailable unavailable(String what, SQLException e) {
        String state = e.getSQLState() == null ? "" : " (sql state " + e.getSQLState() + ")";
        return new BrokerException.Unavailable(what + ": " + e.getMessage() + state, e);
    }

    @Override
    public String toString() {
        return "PostgresBroker[" + settings.url() + " as " + settings.adminUser() + ", prefix " + settings.rolePrefix() + "]";
    }
}
