package dev.sigil.server.federation;

import dev.sigil.core.bundle.JwtAuthority;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** {@link FederationStore} in table federation_relationships (migration V21). */
final class SqlFederationStore implements FederationStore {
    static final String SERVER_ACTOR = "sigil-server";
    private static final String COLUMNS = "trust_domain, bundle_endpoint_url, profile, endpoint_spiffe_id, bundle, bundle_sequence, "
            + "last_refresh_at, last_attempt_at, last_error, revision, created_at, updated_at";
    private static final int MAX_ERROR = 2000;

    private final Datastore datastore;
    private final AuditTrail audit;
    private final Clock clock;

    SqlFederationStore(Datastore datastore, AuditTrail audit, Clock clock) {
        this.datastore = datastore;
        this.audit = audit;
        this.clock = clock;
    }

    @Override
    public Change create(FederationDraft draft, String actor) {
        AuditEvent.checkActor(actor);
        return datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            Optional<FederationRelationship> existing = select(connection, draft.trustDomain());
            if (existing.isPresent()) {
                return new Change.AlreadyExists(existing.get());
            }
            if (draft.profile() instanceof BundleEndpointProfile.HttpsSpiffe && draft.trustDomainBundle().isEmpty()) {
                return new Change.BundleRequired();
            }
            Instant now = clock.instant();
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO federation_relationships (" + COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, 1, ?, ?)")) {
                insert.setString(1, draft.trustDomain().name());
                insert.setString(2, draft.bundleEndpointUrl().toString());
                insert.setString(3, draft.profile().name());
                setEndpointId(insert, 4, draft.profile());
                setBundle(insert, 5, 6, draft.trustDomainBundle());
                insert.setLong(7, now.toEpochMilli());
                insert.setLong(8, now.toEpochMilli());
                insert.executeUpdate();
            }
            FederationRelationship created = select(connection, draft.trustDomain()).orElseThrow();
            audit.append(transaction, AuditEvent.success(actor, "federation.create", draft.trustDomain().idString(), details(created)));
            return new Change.Done(created);
        });
    }

    @Override
    public Change update(FederationDraft draft, Optional<Long> expectedRevision, String actor) {
        AuditEvent.checkActor(actor);
        return datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            Optional<FederationRelationship> existing = select(connection, draft.trustDomain());
            if (existing.isEmpty()) {
                return new Change.NotFound();
            }
            if (expectedRevision.isPresent() && expectedRevision.get() != existing.get().revision()) {
                return new Change.RevisionConflict(existing.get().revision());
            }
            Optional<SpiffeBundle> bundle = draft.trustDomainBundle().or(() -> existing.get().bundle());
            if (draft.profile() instanceof BundleEndpointProfile.HttpsSpiffe && bundle.isEmpty()) {
                return new Change.BundleRequired();
            }
            Instant now = clock.instant();
            try (PreparedStatement update = connection.prepareStatement("UPDATE federation_relationships SET bundle_endpoint_url = ?, "
                    + "profile = ?, endpoint_spiffe_id = ?, bundle = ?, bundle_sequence = ?, last_error = NULL, revision = ?, updated_at = ? "
                    + "WHERE trust_domain = ? AND revision = ?")) {
                update.setString(1, draft.bundleEndpointUrl().toString());
                update.setString(2, draft.profile().name());
                setEndpointId(update, 3, draft.profile());
                setBundle(update, 4, 5, bundle);
                update.setLong(6, existing.get().revision() + 1);
                update.setLong(7, now.toEpochMilli());
                update.setString(8, draft.trustDomain().name());
                update.setLong(9, existing.get().revision());
                if (update.executeUpdate() != 1) {
                    throw new SQLException("federation relationship " + draft.trustDomain() + " changed concurrently", "40001");
                }
            }
            FederationRelationship updated = select(connection, draft.trustDomain()).orElseThrow();
            audit.append(transaction, AuditEvent.success(actor, "federation.update", draft.trustDomain().idString(), details(updated)));
            return new Change.Done(updated);
        });
    }

    @Override
    public Change delete(TrustDomain trustDomain, Optional<Long> expectedRevision, String actor) {
        AuditEvent.checkActor(actor);
        return datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            Optional<FederationRelationship> existing = select(connection, trustDomain);
            if (existing.isEmpty()) {
                return new Change.NotFound();
            }
            if (expectedRevision.isPresent() && expectedRevision.get() != existing.get().revision()) {
                return new Change.RevisionConflict(existing.get().revision());
            }
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM federation_relationships WHERE trust_domain = ?")) {
                delete.setString(1, trustDomain.name());
                delete.executeUpdate();
            }
            audit.append(transaction, AuditEvent.success(actor, "federation.delete", trustDomain.idString(), details(existing.get())));
            return new Change.Done(existing.get());
        });
    }

    @Override
    public Optional<FederationRelationship> find(TrustDomain trustDomain) {
        return datastore.read(connection -> select(connection, trustDomain));
    }

    @Override
    public List<FederationRelationship> list() {
        return datastore.read(connection -> {
            try (PreparedStatement select = connection.prepareStatement("SELECT " + COLUMNS
                    + " FROM federation_relationships ORDER BY trust_domain")) {
                return rows(select);
            }
        });
    }

    @Override
    public boolean recordRefresh(TrustDomain trustDomain, SpiffeBundle bundle, Instant at) {
        String json = bundle.toJson();
        return datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            int changed;
            // only the first server to write a new document changes the row (and audits): idempotent across servers
            try (PreparedStatement update = connection.prepareStatement("UPDATE federation_relationships SET bundle = ?, "
                    + "bundle_sequence = ?, last_refresh_at = ?, last_attempt_at = ?, last_error = NULL "
                    + "WHERE trust_domain = ? AND (bundle IS NULL OR bundle <> ?)")) {
                update.setString(1, json);
                update.setLong(2, bundle.sequence());
                update.setLong(3, at.toEpochMilli());
                update.setLong(4, at.toEpochMilli());
                update.setString(5, trustDomain.name());
                update.setString(6, json);
                changed = update.executeUpdate();
            }
            if (changed == 0) {
                try (PreparedStatement touch = connection.prepareStatement("UPDATE federation_relationships SET last_refresh_at = ?, "
                        + "last_attempt_at = ?, last_error = NULL WHERE trust_domain = ?")) {
                    touch.setLong(1, at.toEpochMilli());
                    touch.setLong(2, at.toEpochMilli());
                    touch.setString(3, trustDomain.name());
                    touch.executeUpdate();
                }
                return false;
            }
            Map<String, String> details = new LinkedHashMap<>();
            details.put("sequence", Long.toString(bundle.sequence()));
            details.put("x509_authorities", bundle.x509Authorities().stream()
                    .map(certificate -> certificate.getSerialNumber().toString(16)).collect(Collectors.joining(" ")));
            details.put("jwt_key_ids", bundle.jwtAuthorities().stream().map(JwtAuthority::keyId).collect(Collectors.joining(" ")));
            audit.append(transaction, AuditEvent.success(SERVER_ACTOR, "federation.bundle_updated", trustDomain.idString(), details));
            return true;
        });
    }

    @Override
    public boolean recordFailure(TrustDomain trustDomain, String error, Instant at) {
        String clipped = error.length() > MAX_ERROR ? error.substring(0, MAX_ERROR) : error;
        return datastore.transaction(transaction -> {
            Connection connection = transaction.jdbc();
            int newlyFailing;
            try (PreparedStatement update = connection.prepareStatement("UPDATE federation_relationships SET last_error = ?, "
                    + "last_attempt_at = ? WHERE trust_domain = ? AND last_error IS NULL")) {
                update.setString(1, clipped);
                update.setLong(2, at.toEpochMilli());
                update.setString(3, trustDomain.name());
                newlyFailing = update.executeUpdate();
            }
            if (newlyFailing == 0) {
                try (PreparedStatement touch = connection.prepareStatement("UPDATE federation_relationships SET last_error = ?, "
                        + "last_attempt_at = ? WHERE trust_domain = ?")) {
                    touch.setString(1, clipped);
                    touch.setLong(2, at.toEpochMilli());
                    touch.setString(3, trustDomain.name());
                    touch.executeUpdate();
                }
                return false;
            }
            Map<String, String> details = new LinkedHashMap<>();
            details.put("error", clipped);
            select(connection, trustDomain).flatMap(FederationRelationship::bundle)
                    .ifPresent(kept -> details.put("kept_sequence", Long.toString(kept.sequence())));
            audit.append(transaction, AuditEvent.denied(SERVER_ACTOR, "federation.refresh_failed", trustDomain.idString(), details));
            return true;
        });
    }

    private static Map<String, String> details(FederationRelationship relationship) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("bundle_endpoint_url", relationship.bundleEndpointUrl().toString());
        details.put("profile", relationship.profile().name());
        if (relationship.profile() instanceof BundleEndpointProfile.HttpsSpiffe spiffe) {
            details.put("endpoint_spiffe_id", spiffe.endpointSpiffeId().toString());
        }
        relationship.bundle().ifPresent(bundle -> details.put("sequence", Long.toString(bundle.sequence())));
        details.put("revision", Long.toString(relationship.revision()));
        return details;
    }

    private static void setEndpointId(PreparedStatement statement, int index, BundleEndpointProfile profile) throws SQLException {
        if (profile instanceof BundleEndpointProfile.HttpsSpiffe spiffe) {
            statement.setString(index, spiffe.endpointSpiffeId().toString());
        } else {
            statement.setNull(index, Types.VARCHAR);
        }
    }

    private static void setBundle(PreparedStatement statement, int json, int sequence, Optional<SpiffeBundle> bundle) throws SQLException {
        if (bundle.isPresent()) {
            statement.setString(json, bundle.get().toJson());
            statement.setLong(sequence, bundle.get().sequence());
        } else {
            statement.setNull(json, Types.VARCHAR);
            statement.setNull(sequence, Types.BIGINT);
        }
    }

    private static Optional<FederationRelationship> select(Connection connection, TrustDomain trustDomain) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement("SELECT " + COLUMNS + " FROM federation_relationships WHERE trust_domain = ?")) {
            select.setString(1, trustDomain.name());
            List<FederationRelationship> rows = rows(select);
            return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
        }
    }

    private static List<FederationRelationship> rows(PreparedStatement select) throws SQLException {
        List<FederationRelationship> rows = new ArrayList<>();
        try (ResultSet result = select.executeQuery()) {
            while (result.next()) {
                TrustDomain trustDomain = TrustDomain.parse(result.getString("trust_domain"));
                String profileName = result.getString("profile");
                BundleEndpointProfile profile = BundleEndpointProfile.HTTPS_SPIFFE.equals(profileName)
                        ? new BundleEndpointProfile.HttpsSpiffe(SpiffeId.parse(result.getString("endpoint_spiffe_id")))
                        : new BundleEndpointProfile.HttpsWeb();
                String json = result.getString("bundle");
                rows.add(new FederationRelationship(trustDomain, URI.create(result.getString("bundle_endpoint_url")), profile,
                        json == null ? Optional.empty() : Optional.of(SpiffeBundle.parse(trustDomain, json)),
                        instant(result, "last_refresh_at"), instant(result, "last_attempt_at"),
                        Optional.ofNullable(result.getString("last_error")), result.getLong("revision"),
                        Instant.ofEpochMilli(result.getLong("created_at")), Instant.ofEpochMilli(result.getLong("updated_at"))));
            }
        }
        return rows;
    }

    private static Optional<Instant> instant(ResultSet result, String column) throws SQLException {
        long value = result.getLong(column);
        return result.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(value));
    }
}
