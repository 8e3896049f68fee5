package dev.sigil.server.resource;

import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The registered protected resources, in the datastore (migration V24), so every server of a trust
 * domain sees the same ones. Registering and deleting are audited ({@code resource.create},
 * {@code resource.delete}) in the transaction that makes the change. {@link #find} serves the token
 * endpoint's hot path from an in-memory snapshot, read when the store is built, again at once on this server
 * after a change, and otherwise in the background when it is older than {@link #REFRESH}: a registration
 * reaches every server within about that time, and an exchange never waits on the database for it (during a
 * datastore outage the last snapshot stays in force).
 */
public final class ResourceStore implements ResourceCatalog {
    /** How stale the token endpoint's view of the registrations may be. */
    public static final Duration REFRESH = Duration.ofSeconds(5);
    static final int MAX_RESOURCES = 10_000;

    /** Thrown by {@link #create} when the uri is already registered. */
    public static final class AlreadyRegistered extends RuntimeException {
        AlreadyRegistered(String uri) {
            super("resource " + uri + " is already registered; delete it first to change it");
        }
    }

    private record Snapshot(Instant readAt, Map<String, ProtectedResource> byUri) {
    }

    private final Datastore datastore;
    private final AuditTrail audit;
    private final Clock clock;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ResourceStore.class);
    private volatile Snapshot snapshot = new Snapshot(Instant.MIN, Map.of());
    private final java.util.concurrent.atomic.AtomicBoolean refreshing = new java.util.concurrent.atomic.AtomicBoolean();

    public ResourceStore(Datastore datastore, AuditTrail audit, Clock clock) {
        this.datastore = datastore;
        this.audit = audit;
        this.clock = clock;
        try {
            reload();
        } catch (RuntimeException e) {
            LOG.warn("cannot read the registered protected resources yet; retrying in the background: {}", e.getMessage());
        }
    }

    public ProtectedResource create(String uri, Optional<String> name, List<String> scopes, String actor) {
        AuditEvent.checkActor(actor);
        ProtectedResource resource = new ProtectedResource(uri, name, scopes, clock.instant().truncatedTo(ChronoUnit.MILLIS), actor);
        datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            if (find(connection, resource.uri()).isPresent()) {
                throw new AlreadyRegistered(resource.uri());
            }
            try (PreparedStatement count = connection.prepareStatement("SELECT COUNT(*) FROM protected_resources");
                 ResultSet rows = count.executeQuery()) {
                if (rows.next() && rows.getLong(1) >= MAX_RESOURCES) {
                    throw new IllegalArgumentException("at most " + MAX_RESOURCES + " resources can be registered");
                }
            }
            try (PreparedStatement insert = connection.prepareStatement(
                    "INSERT INTO protected_resources (uri, name, scopes, created_at, created_by) VALUES (?, ?, ?, ?, ?)")) {
                insert.setString(1, resource.uri());
                insert.setString(2, resource.name().orElse(null));
                insert.setString(3, String.join(" ", resource.scopes()));
                insert.setLong(4, resource.createdAt().toEpochMilli());
                insert.setString(5, actor);
                insert.executeUpdate();
            }
            Map<String, String> details = new LinkedHashMap<>();
            details.put("scopes", String.join(" ", resource.scopes()));
            resource.name().ifPresent(n -> details.put("name", n));
            audit.append(transaction, AuditEvent.success(actor, "resource.create", resource.uri(), details));
            return null;
        });
        reload();
        return resource;
    }

    /** Deletes the registration; false when {@code uri} was not registered. */
    public boolean delete(String uri, String actor) {
        AuditEvent.checkActor(actor);
        String canonical = ProtectedResource.canonical(uri);
        boolean deleted = datastore.transaction(transaction -> {
            try (PreparedStatement delete = transaction.jdbc().prepareStatement("DELETE FROM protected_resources WHERE uri = ?")) {
                delete.setString(1, canonical);
                if (delete.executeUpdate() == 0) {
                    return false;
                }
            }
            audit.append(transaction, AuditEvent.success(actor, "resource.delete", canonical, Map.of()));
            return true;
        });
        reload();
        return deleted;
    }

    public List<ProtectedResource> list() {
        return datastore.read(connection -> {
            List<ProtectedResource> resources = new ArrayList<>();
            try (PreparedStatement query = connection.prepareStatement("SELECT * FROM protected_resources ORDER BY uri");
                 ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    resources.add(row(rows));
                }
            }
            return resources;
        });
    }

    /** The registration of {@code uri} (canonicalised), from a snapshot at most {@link #REFRESH} old. */
    @Override
    public Optional<ProtectedResource> find(String uri) {
        Snapshot current = snapshot;
        if (current.readAt().plus(REFRESH).isBefore(clock.instant()) && refreshing.compareAndSet(false, true)) {
            Thread.ofVirtual().name("protected-resources-refresh").start(() -> {
                try {
                    reload();
                } catch (RuntimeException e) {
                    LOG.warn("cannot refresh the registered protected resources; the last snapshot stays in force: {}", e.getMessage());
                } finally {
                    refreshing.set(false);
                }
            });
        }
        if (current.byUri().isEmpty()) {
            return Optional.empty(); // the common case costs no uri parsing
        }
        try {
            return Optional.ofNullable(current.byUri().get(ProtectedResource.canonical(uri)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Reads every registration into a new snapshot (a few rows; at most {@value #MAX_RESOURCES}). */
    private void reload() {
        Instant now = clock.instant();
        Map<String, ProtectedResource> byUri = new LinkedHashMap<>();
        for (ProtectedResource resource : list()) {
            byUri.put(resource.uri(), resource);
        }
        snapshot = new Snapshot(now, Map.copyOf(byUri));
    }

    private static Optional<ProtectedResource> find(Connection connection, String uri) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement("SELECT * FROM protected_resources WHERE uri = ?")) {
            query.setString(1, uri);
            try (ResultSet rows = query.executeQuery()) {
                return rows.next() ? Optional.of(row(rows)) : Optional.empty();
            }
        }
    }

    private static ProtectedResource row(ResultSet rows) throws SQLException {
        return new ProtectedResource(rows.getString("uri"), Optional.ofNullable(rows.getString("name")),
                List.of(rows.getString("scopes").split(" ")), Instant.ofEpochMilli(rows.getLong("created_at")), rows.getString("created_by"));
    }
}
