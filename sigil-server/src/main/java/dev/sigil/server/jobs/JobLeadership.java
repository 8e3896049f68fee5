package dev.sigil.server.jobs;

import dev.sigil.server.datastore.Datastore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Which of the servers sharing a datastore runs the {@link Job.Scope#ONE_SERVER} jobs: the holder of one
 * lease row ({@code job_leader}), which it keeps by renewing it before it lapses. When the holder stops
 * (it releases the row) or dies (it stops renewing), another server takes the row over at its next
 * attempt after the lease lapses; with the defaults (lease 3 s, attempts every 1 s) a dead leader is
 * replaced within 4 s, a stopped one within 1 s.
 *
 * <p>Guarantees: taking and renewing is one conditional {@code UPDATE} (a row lock in PostgreSQL, the
 * database lock in SQLite), so two servers never both hold an unexpired lease; a server treats itself
 * as leader only until {@code lease - margin} after its last successful renewal by its own clock, so a
 * server that cannot reach the database stops leading before another can start. Limits: leases are
 * compared by the servers' clocks (keep them in sync, as TLS already requires); a leader paused longer
 * than the margin in the middle of a run may finish that run after a successor started one — every
 * ONE_SERVER job's writes are guarded state transitions, so such an overlap does work twice, never with
 * conflicting results.
 */
public final class JobLeadership {
    /** How long a lease lasts after its last renewal. */
    public static final Duration LEASE = Duration.ofSeconds(3);
    /** How often the runner renews or tries to take the lease. */
    public static final Duration ATTEMPT = Duration.ofSeconds(1);
    /** Leadership ends locally this long before the lease lapses in the database. */
    static final Duration MARGIN = Duration.ofMillis(1_000);
    private static final String NAME = "jobs";

    private final Datastore datastore;
    private final String holder;
    private final Clock clock;
    private volatile Instant leadingUntil = Instant.MIN;
    private volatile long term;

    /** @param holder this server, unique among the servers sharing the datastore (a random instance id and the host name) */
    public JobLeadership(Datastore datastore, String holder, Clock clock) {
        this.datastore = Objects.requireNonNull(datastore, "datastore");
        if (holder.isBlank() || holder.length() > 200) {
            throw new IllegalArgumentException("a job leader's name must be 1 to 200 characters");
        }
        this.holder = holder;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Renews the lease if this server holds it, or takes it if it lapsed; returns whether this server leads now. */
    public boolean attempt() {
        Instant now = clock.instant();
        Optional<Long> held = datastore.inTransaction(connection -> {
            try (PreparedStatement beat = connection.prepareStatement("INSERT INTO server_instances (name, started_at, heartbeat_at) "
                    + "VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET heartbeat_at = excluded.heartbeat_at")) {
                beat.setString(1, holder);
                beat.setLong(2, now.toEpochMilli());
                beat.setLong(3, now.toEpochMilli());
                beat.executeUpdate();
            }
            try (PreparedStatement insert = connection.prepareStatement(
                    "INSERT INTO job_leader (name, holder, term, expires_at) VALUES (?, ?, 1, ?) ON CONFLICT (name) DO NOTHING")) {
                insert.setString(1, NAME);
                insert.setString(2, holder);
                insert.setLong(3, now.plus(LEASE).toEpochMilli());
                insert.executeUpdate();
            }
            try (PreparedStatement take = connection.prepareStatement("UPDATE job_leader SET "
                    + "term = CASE WHEN holder = ? THEN term ELSE term + 1 END, holder = ?, expires_at = ? "
                    + "WHERE name = ? AND (holder = ? OR expires_at < ?)")) {
                take.setString(1, holder);
                take.setString(2, holder);
                take.setLong(3, now.plus(LEASE).toEpochMilli());
                take.setString(4, NAME);
                take.setString(5, holder);
                take.setLong(6, now.toEpochMilli());
                if (take.executeUpdate() == 0) {
                    return Optional.<Long>empty();
                }
            }
            try (PreparedStatement read = connection.prepareStatement("SELECT term FROM job_leader WHERE name = ?")) {
                read.setString(1, NAME);
                try (ResultSet row = read.executeQuery()) {
                    row.next();
                    return Optional.of(row.getLong(1));
                }
            }
        });
        if (held.isPresent()) {
            term = held.get();
            leadingUntil = now.plus(LEASE).minus(MARGIN);
            return true;
        }
        leadingUntil = Instant.MIN;
        return false;
    }

    /**
     * The servers alive now: those whose heartbeat (renewed with every {@link #attempt()}) is younger than
     * the {@link #LEASE}, this one included once it has attempted. What a server not in this set had under
     * way (a grant, a revocation attempt) may be taken over; a server merely paused longer than that finds
     * its work taken over and its own late writes refused by their guarded state transitions.
     */
    public Set<String> live() {
        long since = clock.instant().minus(LEASE).toEpochMilli();
        return datastore.read(connection -> {
            Set<String> live = new HashSet<>();
            try (PreparedStatement query = connection.prepareStatement("SELECT name FROM server_instances WHERE heartbeat_at >= ?")) {
                query.setLong(1, since);
                try (ResultSet rows = query.executeQuery()) {
                    while (rows.next()) {
                        live.add(rows.getString(1));
                    }
                }
            }
            return live;
        });
    }

    /** Forgets servers that have not beaten for {@code age} (run by the leader); returns how many. */
    public int forgetServersSilentFor(Duration age) {
        long before = clock.instant().minus(age).toEpochMilli();
        return datastore.inTransaction(connection -> {
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM server_instances WHERE heartbeat_at < ?")) {
                delete.setLong(1, before);
                return delete.executeUpdate();
            }
        });
    }

    /** Whether this server may run a ONE_SERVER job now: it renewed the lease recently enough. */
    public boolean leading() {
        return clock.instant().isBefore(leadingUntil);
    }

    /** The leadership term this server last held (increases with every takeover), for logs and metrics. */
    public long term() {
        return term;
    }

    /**
     * Gives the lease up at once and leaves the live servers (server shutdown), so another server takes
     * the jobs over at its next attempt.
     */
    public void release() {
        leadingUntil = Instant.MIN;
        datastore.inTransaction(connection -> {
            try (PreparedStatement leave = connection.prepareStatement("DELETE FROM server_instances WHERE name = ?")) {
                leave.setString(1, holder);
                leave.executeUpdate();
            }
            try (PreparedStatement release = connection.prepareStatement("UPDATE job_leader SET expires_at = 0 WHERE name = ? AND holder = ?")) {
                release.setString(1, NAME);
                release.setString(2, holder);
                return release.executeUpdate();
            }
        });
    }

    /** A name for this server process: the host name and a random instance id, unique per start. */
    public static String instanceName() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "unknown-host";
        }
        String id = java.util.UUID.randomUUID().toString().substring(0, 8);
        return dev.sigil.core.Printable.clip(host, 150) + "/" + ProcessHandle.current().pid() + "/" + id;
    }

    public String holder() {
        return holder;
    }
}
