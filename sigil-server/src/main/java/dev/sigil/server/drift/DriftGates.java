package dev.sigil.server.drift;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.Transaction;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The re-attestation requirement a drift leaves behind: for a drifted SPIFFE ID, credentials issued
 * before the drift (JWT-SVIDs by {@code iat}, X.509-SVIDs by {@code notBefore}) no longer buy anything
 * new. Only a fresh SVID — which the agent issues only to a workload that attests as the entry says —
 * lifts the gate for the request that presents it.
 *
 * <p>Guarantees: gates are durable (a restart keeps them) and shared through the database; this server
 * sees its own gates at once and other servers' gates within one {@link #reload()} (the maintenance
 * tick). A gate ends when every SVID issued before it has expired ({@code expires_at}). Check cost is a
 * map lookup.
 */
public final class DriftGates {
    /** What a drifted holder may still do (chosen per policy; see {@code DriftResponder}). */
    public enum Mode {
        /** Everything it held was revoked; grants need a fresh SVID. */
        REVOKE,
        /** Nothing revoked, but until a fresh SVID nothing new is granted and nothing renewed. */
        NARROW,
        /** Nothing revoked, renewals allowed; the next grant needs a fresh SVID. */
        REATTEST;

        String column() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Mode parse(String text) {
            return valueOf(text.toUpperCase(Locale.ROOT));
        }
    }

    /** One holder's gate. */
    public record Gate(SpiffeId holder, Mode mode, Instant notBefore, String driftId, Instant expiresAt) {}

    private final Datastore datastore;
    private final Clock clock;
    private volatile Map<SpiffeId, Gate> gates = Map.of();

    public DriftGates(Datastore datastore, Clock clock) {
        this.datastore = datastore;
        this.clock = clock;
        reload();
    }

    /**
     * Sets (or moves forward) the gate of {@code holder}, in the caller's transaction; call
     * {@link #remember} after it commits.
     */
    public static void set(Transaction transaction, Gate gate) throws SQLException {
        Connection connection = transaction.jdbc();
        try (PreparedStatement delete = connection.prepareStatement("DELETE FROM drift_gates WHERE holder = ?")) {
            delete.setString(1, gate.holder().toString());
            delete.executeUpdate();
        }
        try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO drift_gates (holder, mode, not_before, drift_id, expires_at) VALUES (?, ?, ?, ?, ?)")) {
            insert.setString(1, gate.holder().toString());
            insert.setString(2, gate.mode().column());
            insert.setLong(3, gate.notBefore().toEpochMilli());
            insert.setString(4, gate.driftId());
            insert.setLong(5, gate.expiresAt().toEpochMilli());
            insert.executeUpdate();
        }
    }

    /** Makes a committed gate visible to this server's checks at once. */
    public synchronized void remember(Gate gate) {
        Map<SpiffeId, Gate> next = new HashMap<>(gates);
        next.put(gate.holder(), gate);
        gates = Map.copyOf(next);
    }

    /** Reloads every live gate from the database (other servers' drifts) and prunes expired ones. */
    public void reload() {
        Instant now = clock.instant();
        Map<SpiffeId, Gate> loaded = datastore.inTransaction(connection -> {
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM drift_gates WHERE expires_at <= ?")) {
                delete.setLong(1, now.toEpochMilli());
                delete.executeUpdate();
            }
            Map<SpiffeId, Gate> result = new HashMap<>();
            try (PreparedStatement select = connection.prepareStatement("SELECT holder, mode, not_before, drift_id, expires_at FROM drift_gates");
                 ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    SpiffeId holder = SpiffeId.parse(rows.getString(1));
                    result.put(holder, new Gate(holder, Mode.parse(rows.getString(2)), Instant.ofEpochMilli(rows.getLong(3)),
                            rows.getString(4), Instant.ofEpochMilli(rows.getLong(5))));
                }
            }
            return result;
        });
        synchronized (this) {
            gates = Map.copyOf(loaded);
        }
    }

    /**
     * The gate that refuses a new grant to {@code holder} presenting a credential issued at
     * {@code credentialIssuedAt}, if any.
     */
    public Optional<Gate> refusesGrant(SpiffeId holder, Instant credentialIssuedAt) {
        Gate gate = gates.get(holder);
        if (gate == null || !clock.instant().isBefore(gate.expiresAt()) || !credentialIssuedAt.isBefore(gate.notBefore())) {
            return Optional.empty();
        }
        return Optional.of(gate);
    }

    /** The gate that refuses renewing {@code holder}'s existing credentials, if any ({@link Mode#REATTEST} allows renewals). */
    public Optional<Gate> refusesRenewal(SpiffeId holder) {
        Gate gate = gates.get(holder);
        if (gate == null || gate.mode() == Mode.REATTEST || !clock.instant().isBefore(gate.expiresAt())) {
            return Optional.empty();
        }
        return Optional.of(gate);
    }

    /** The refusal text for a gate, naming the drift and what lifts it. */
    public static String reason(Gate gate) {
        return "workload " + gate.holder() + " drifted (drift " + gate.driftId() + ", response " + gate.mode().column()
                + "); credentials issued before " + gate.notBefore() + " are refused: re-attest and present a fresh svid";
    }
}
