package dev.sigil.server.credential.postgresql;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
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
     * PBKDF2 iterations of the SCRAM-SHA-256 verifier (a proper verifier: random 16-byte salt per role,
     * StoredKey and ServerKey as RFC 5802 defines them). Key stretching only slows down guessing a
     * password from a stolen verifier, which matters for passwords people choose; these have 256 random
     * bits, so with any iteration count a guess succeeds with probability 2^-256, and what a stolen
     * verifier does allow (posing as the server to a client, or logging in with a sniffed exchange) no
     * count prevents. The count is paid on every grant by the broker and by PostgreSQL (CREATE ROLE
     * runs PBKDF2 over the verifier to refuse an empty password; at 256 iterations that was 0.2 to 0.3 ms
     * of PostgreSQL CPU per lease) and by the holder's client at every login, so it is kept small: 16
     * (PostgreSQL's default is 4,096, for typed passwords; PostgreSQL 16 allows {@code scram_iterations}
     * down to 1). Clients that insist on at least 4,096 iterations (RFC 7677's SHOULD) cannot log in with
     * these roles, as with the earlier 256.
     */
    static final int SCRAM_ITERATIONS = 16;
    private static final int SCRAM_SALT_BYTES = 16;
    private static final SecureRandom RANDOM = new SecureRandom();

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
    /** {@link PostgresBrokerSettings#database()}, parsed from the URL once rather than on every grant. */
    private final String database;
    private final Clock clock;
    private final HikariDataSource pool;
    private final RoleStatements statements;

    private PostgresBroker(PostgresBrokerSettings settings, Clock clock, HikariDataSource pool, RoleStatements statements) {
        this.settings = settings;
        this.database = settings.database();
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
        // One Query message per step: PostgreSQL runs a multi-statement simple query as one implicit
        // transaction (all or nothing, committed at its end), as the extended protocol's batch up to its
        // Sync, with fewer messages and less parsing on both sides. Bind values of the lookups are then
        // quoted by the driver; the statements with literals quote them themselves (RoleStatements).
        hikari.addDataSourceProperty("preferQueryMode", "simple");
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
        return new Granted(new CredentialSecret(fields, password), Map.of("role", role.value(), "database", database));
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

    /**
     * The role's forensic comment, a JSON object with fixed keys: {@code sigil_lease}, {@code broker},
     * {@code holder}, {@code resource}, {@code issued_at}, {@code expires_at}, {@code task} when there is
     * one, and {@code delegation} (outermost actor first). Every value is quoted by Jackson's own JSON
     * string encoder, so a task id with quotes, backslashes or control characters stays one string.
     */
    static String comment(LeaseGrant lease) {
        StringBuilder json = new StringBuilder(320).append('{');
        field(json, "sigil_lease", lease.id().value()).append(',');
        field(json, "broker", lease.broker()).append(',');
        field(json, "holder", lease.holder().toString()).append(',');
        field(json, "resource", lease.resource()).append(',');
        field(json, "issued_at", lease.issuedAt().toString()).append(',');
        field(json, "expires_at", lease.expiresAt().toString()).append(',');
        lease.task().ifPresent(task -> field(json, "task", task).append(','));
        json.append("\"delegation\":[");
        for (int i = 0; i < lease.delegation().size(); i++) {
            string(json.append(i == 0 ? "" : ","), lease.delegation().get(i).toString());
        }
        return json.append("]}").toString();
    }

    private static StringBuilder field(StringBuilder json, String name, String value) {
        return string(json.append('"').append(name).append("\":"), value);
    }

    private static StringBuilder string(StringBuilder json, String value) {
        return json.append('"').append(JsonStringEncoder.getInstance().quoteAsString(value)).append('"');
    }

    private static String newPassword() {
        byte[] bytes = new byte[PASSWORD_BYTES];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static String scramVerifier(String password) {
        byte[] salt = new byte[SCRAM_SALT_BYTES];
        RANDOM.nextBytes(salt);
        return ScramVerifier.of(password, salt, SCRAM_ITERATIONS);
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
