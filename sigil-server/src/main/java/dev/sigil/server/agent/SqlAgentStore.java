package dev.sigil.server.agent;

import dev.sigil.server.datastore.Transaction;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Collectors;

/** {@link AgentStore} in table agents (migration V4). */
final class SqlAgentStore implements AgentStore {
    private static final String COLUMNS = "spiffe_id, attestor_type, selectors, trust_level, svid_serial, svid_expires_at, "
            + "first_attested_at, last_attested_at, banned, revision, updated_at";

    private final Datastore datastore;
    private final AuditTrail audit;
    private final Clock clock;

    SqlAgentStore(Datastore datastore, AuditTrail audit, Clock clock) {
        this.datastore = Objects.requireNonNull(datastore, "datastore");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public Recording recordAttestation(Attestation attestation, String actor) {
        AuditEvent.checkActor(actor);
        return datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            Instant now = now();
            Optional<Agent> existing = select(connection, attestation.spiffeId());
            String serial = attestation.svidSerial().toString(16);
            Instant expires = attestation.svidExpiresAt().truncatedTo(ChronoUnit.MILLIS);
            if (existing.isPresent() && existing.get().banned()) {
                audit.append(transaction, AuditEvent.denied(actor, "agent.attest", attestation.spiffeId().toString(),
                        Map.of("reason", "banned", "attestor", attestation.attestorType())));
                return new Recording.Banned(existing.get());
            }
            Agent agent = new Agent(attestation.spiffeId(), attestation.attestorType(), attestation.selectors(),
                    attestation.trustLevel(), serial, expires, existing.map(Agent::firstAttestedAt).orElse(now), now, false,
                    existing.map(a -> a.revision() + 1).orElse(1L), now);
            if (existing.isPresent()) {
                try (PreparedStatement update = connection.prepareStatement("UPDATE agents SET attestor_type = ?, selectors = ?, "
                        + "trust_level = ?, svid_serial = ?, svid_expires_at = ?, last_attested_at = ?, revision = ?, updated_at = ? "
                        + "WHERE spiffe_id = ? AND banned = ?")) {
                    update.setString(1, agent.attestorType());
                    update.setString(2, selectorText(agent.selectors()));
                    update.setInt(3, agent.trustLevel());
                    update.setString(4, serial);
                    update.setLong(5, expires.toEpochMilli());
                    update.setLong(6, now.toEpochMilli());
                    update.setLong(7, agent.revision());
                    update.setLong(8, now.toEpochMilli());
                    update.setString(9, agent.spiffeId().toString());
                    update.setBoolean(10, false);
                    if (update.executeUpdate() != 1) {
                        throw new SQLException("agent " + agent.spiffeId() + " changed concurrently", "40001");
                    }
                }
            } else {
                try (PreparedStatement insert = connection.prepareStatement(
                        "INSERT INTO agents (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                    insert.setString(1, agent.spiffeId().toString());
                    insert.setString(2, agent.attestorType());
                    insert.setString(3, selectorText(agent.selectors()));
                    insert.setInt(4, agent.trustLevel());
                    insert.setString(5, serial);
                    insert.setLong(6, expires.toEpochMilli());
                    insert.setLong(7, now.toEpochMilli());
                    insert.setLong(8, now.toEpochMilli());
                    insert.setBoolean(9, false);
                    insert.setLong(10, agent.revision());
                    insert.setLong(11, now.toEpochMilli());
                    insert.executeUpdate();
                }
            }
            Map<String, String> details = new LinkedHashMap<>();
            details.put("attestor", agent.attestorType());
            details.put("evidence", NodeEvidence.summary(agent.attestorType(), agent.selectors()));
            details.put("trust_level", Integer.toString(agent.trustLevel()));
            String selectors = selectorText(agent.selectors()).replace('\n', ',');
            details.put("selectors", selectors.length() > AuditEvent.MAX_DETAIL_LENGTH
                    ? selectors.substring(0, AuditEvent.MAX_DETAIL_LENGTH - 3) + "..." : selectors);
            details.put("serial", serial);
            details.put("reattested", Boolean.toString(existing.isPresent()));
            audit.append(transaction, AuditEvent.success(actor, "agent.attest", agent.spiffeId().toString(), details));
            return new Recording.Recorded(agent);
        });
    }

    @Override
    public Optional<Agent> recordRenewal(SpiffeId spiffeId, BigInteger svidSerial, Instant svidExpiresAt, String actor) {
        AuditEvent.checkActor(actor);
        return datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            Optional<Agent> existing = select(connection, spiffeId);
            if (existing.isEmpty() || existing.get().banned()) {
                return Optional.<Agent>empty();
            }
            Instant now = now();
            String serial = svidSerial.toString(16);
            Instant expires = svidExpiresAt.truncatedTo(ChronoUnit.MILLIS);
            Agent old = existing.get();
            try (PreparedStatement update = connection.prepareStatement("UPDATE agents SET svid_serial = ?, svid_expires_at = ?, "
                    + "revision = ?, updated_at = ? WHERE spiffe_id = ? AND revision = ? AND banned = ?")) {
                update.setString(1, serial);
                update.setLong(2, expires.toEpochMilli());
                update.setLong(3, old.revision() + 1);
                update.setLong(4, now.toEpochMilli());
                update.setString(5, spiffeId.toString());
                update.setLong(6, old.revision());
                update.setBoolean(7, false);
                if (update.executeUpdate() != 1) {
                    throw new SQLException("agent " + spiffeId + " changed concurrently", "40001");
                }
            }
            audit.append(transaction, AuditEvent.success(actor, "agent.renew", spiffeId.toString(),
                    Map.of("serial", serial, "previous_serial", old.svidSerial(), "expires_at", expires.toString())));
            return Optional.of(new Agent(spiffeId, old.attestorType(), old.selectors(), old.trustLevel(), serial, expires,
                    old.firstAttestedAt(), old.lastAttestedAt(), false, old.revision() + 1, now));
        });
    }

    @Override
    public Optional<Agent> find(SpiffeId spiffeId) {
        return datastore.read(connection -> select(connection, spiffeId));
    }

    @Override
    public List<Agent> list() {
        return listWhere("");
    }

    @Override
    public List<Agent> listBanned() {
        return listWhere(" WHERE banned = TRUE");
    }

    private List<Agent> listWhere(String where) {
        return datastore.read(connection -> {
            try (PreparedStatement select = connection.prepareStatement("SELECT " + COLUMNS + " FROM agents" + where + " ORDER BY spiffe_id");
                    ResultSet rows = select.executeQuery()) {
                List<Agent> agents = new ArrayList<>();
                while (rows.next()) {
                    agents.add(agent(rows));
                }
                return agents;
            }
        });
    }

    @Override
    public Optional<Agent> ban(SpiffeId spiffeId, String actor) {
        AuditEvent.checkActor(actor);
        return datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            Optional<Agent> existing = select(connection, spiffeId);
            if (existing.isEmpty() || existing.get().banned()) {
                return existing;
            }
            Instant now = now();
            Agent old = existing.get();
            try (PreparedStatement update = connection.prepareStatement(
                    "UPDATE agents SET banned = ?, revision = ?, updated_at = ? WHERE spiffe_id = ?")) {
                update.setBoolean(1, true);
                update.setLong(2, old.revision() + 1);
                update.setLong(3, now.toEpochMilli());
                update.setString(4, spiffeId.toString());
                update.executeUpdate();
            }
            audit.append(transaction, AuditEvent.success(actor, "agent.ban", spiffeId.toString(), Map.of("serial", old.svidSerial())));
            return Optional.of(new Agent(spiffeId, old.attestorType(), old.selectors(), old.trustLevel(), old.svidSerial(),
                    old.svidExpiresAt(), old.firstAttestedAt(), old.lastAttestedAt(), true, old.revision() + 1, now));
        });
    }

    @Override
    public Optional<Agent> evict(SpiffeId spiffeId, String actor) {
        AuditEvent.checkActor(actor);
        return datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            Optional<Agent> existing = select(connection, spiffeId);
            if (existing.isEmpty()) {
                return existing;
            }
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM agents WHERE spiffe_id = ?")) {
                delete.setString(1, spiffeId.toString());
                if (delete.executeUpdate() != 1) {
                    return Optional.<Agent>empty();
                }
            }
            audit.append(transaction, AuditEvent.success(actor, "agent.evict", spiffeId.toString(),
                    Map.of("serial", existing.get().svidSerial(), "was_banned", Boolean.toString(existing.get().banned()))));
            return existing;
        });
    }

    private static Optional<Agent> select(Connection connection, SpiffeId spiffeId) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement("SELECT " + COLUMNS + " FROM agents WHERE spiffe_id = ?")) {
            select.setString(1, spiffeId.toString());
            try (ResultSet row = select.executeQuery()) {
                return row.next() ? Optional.of(agent(row)) : Optional.empty();
            }
        }
    }

    private static Agent agent(ResultSet row) throws SQLException {
        String selectors = row.getString(3);
        List<Selector> parsed = selectors.isEmpty() ? List.of()
                : Arrays.stream(selectors.split("\n")).map(Selector::parse).toList();
        return new Agent(SpiffeId.parse(row.getString(1)), row.getString(2), parsed, row.getInt(4), row.getString(5),
                Instant.ofEpochMilli(row.getLong(6)), Instant.ofEpochMilli(row.getLong(7)), Instant.ofEpochMilli(row.getLong(8)),
                row.getBoolean(9), row.getLong(10), Instant.ofEpochMilli(row.getLong(11)));
    }

    private static String selectorText(List<Selector> selectors) {
        return new TreeSet<>(selectors).stream().map(s -> s.type() + ":" + s.value()).collect(Collectors.joining("\n"));
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }
}
