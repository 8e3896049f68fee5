package dev.sigil.server.registration;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** How entries map to rows of registration_entries and registration_selectors (migration V1). */
final class EntryRows {
    static final String COLUMNS = "id, spiffe_id, parent_id, selectors, selector_count, selectors_hash, identity_hash, "
            + "x509_svid_ttl_ms, jwt_svid_ttl_ms, dns_names, owner, expires_at, admin, hint, federates_with, revision, "
            + "created_at, updated_at";
    private static final int COLUMN_COUNT = 18;
    private static final int KEYS_PER_QUERY = 500;

    private EntryRows() {}

    /** The selector set in canonical form: sorted, one {@code type:value} per line (values hold no line breaks). */
    static String canonicalSelectors(List<Selector> sortedSelectors) {
        return sortedSelectors.stream().map(Selector::toString).collect(Collectors.joining("\n"));
    }

    static String selectorsHash(List<Selector> sortedSelectors) {
        return sha256Hex(canonicalSelectors(sortedSelectors));
    }

    /** What makes two entries duplicates: SHA-256 over the length-prefixed SPIFFE ID, parent ID and canonical selectors. */
    static String identityHash(EntryDraft draft) {
        return sha256Hex(draft.spiffeId().toString(), draft.parentId().toString(), canonicalSelectors(draft.selectors()));
    }

    static void insert(Connection connection, List<RegistrationEntry> entries) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO registration_entries (" + COLUMNS
                + ") VALUES " + placeholders(1, COLUMN_COUNT))) {
            for (RegistrationEntry entry : entries) {
                int p = 1;
                insert.setString(p++, entry.id());
                p = bindDraft(insert, p, entry.draft());
                insert.setLong(p++, entry.revision());
                insert.setLong(p++, entry.createdAt().toEpochMilli());
                insert.setLong(p, entry.updatedAt().toEpochMilli());
                insert.addBatch();
            }
            insert.executeBatch();
        }
        List<String[]> selectorRows = new ArrayList<>();
        for (RegistrationEntry entry : entries) {
            for (Selector selector : entry.selectors()) {
                selectorRows.add(new String[] {entry.id(), selector.type(), selector.value()});
            }
        }
        insertSelectors(connection, selectorRows);
    }

    /** Rewrites a stored entry's columns and selector rows, if it is still at {@code expectedRevision}; false otherwise. */
    static boolean update(Connection connection, RegistrationEntry entry, long expectedRevision) throws SQLException {
        try (PreparedStatement update = connection.prepareStatement("UPDATE registration_entries SET spiffe_id = ?, "
                + "parent_id = ?, selectors = ?, selector_count = ?, selectors_hash = ?, identity_hash = ?, x509_svid_ttl_ms = ?, "
                + "jwt_svid_ttl_ms = ?, dns_names = ?, owner = ?, expires_at = ?, admin = ?, hint = ?, federates_with = ?, "
                + "revision = ?, updated_at = ? WHERE id = ? AND revision = ?")) {
            int p = bindDraft(update, 1, entry.draft());
            update.setLong(p++, entry.revision());
            update.setLong(p++, entry.updatedAt().toEpochMilli());
            update.setString(p++, entry.id());
            update.setLong(p, expectedRevision);
            if (update.executeUpdate() != 1) {
                return false;
            }
        }
        deleteSelectors(connection, entry.id());
        insertSelectors(connection, entry.selectors().stream()
                .map(s -> new String[] {entry.id(), s.type(), s.value()}).toList());
        return true;
    }

    static void deleteSelectors(Connection connection, String id) throws SQLException {
        try (PreparedStatement delete = connection.prepareStatement("DELETE FROM registration_selectors WHERE entry_id = ?")) {
            delete.setString(1, id);
            delete.executeUpdate();
        }
    }

    /** Of the given identity hashes, those already stored, each with the id of its entry. */
    static Map<String, String> existingIdentities(Connection connection, List<String> identityHashes) throws SQLException {
        Map<String, String> found = new HashMap<>();
        for (int start = 0; start < identityHashes.size(); start += KEYS_PER_QUERY) {
            List<String> chunk = identityHashes.subList(start, Math.min(identityHashes.size(), start + KEYS_PER_QUERY));
            try (PreparedStatement select = connection.prepareStatement("SELECT identity_hash, id FROM registration_entries "
                    + "WHERE identity_hash IN (" + String.join(",", Collections.nCopies(chunk.size(), "?")) + ")")) {
                for (int i = 0; i < chunk.size(); i++) {
                    select.setString(i + 1, chunk.get(i));
                }
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        found.put(rows.getString(1), rows.getString(2));
                    }
                }
            }
        }
        return found;
    }

    /** Maps a row selected with {@link #COLUMNS} (optionally prefixed by a table alias) to an entry. */
    static RegistrationEntry read(ResultSet row) throws SQLException {
        long expiresAt = row.getLong("expires_at");
        Optional<Instant> expiry = row.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(expiresAt));
        EntryDraft draft = new EntryDraft(
                SpiffeId.parse(row.getString("spiffe_id")),
                SpiffeId.parse(row.getString("parent_id")),
                split(row.getString("selectors"), "\n").stream().map(Selector::parse).toList(),
                Duration.ofMillis(row.getLong("x509_svid_ttl_ms")),
                Duration.ofMillis(row.getLong("jwt_svid_ttl_ms")),
                split(row.getString("dns_names"), ","),
                row.getString("owner"),
                expiry,
                row.getBoolean("admin"),
                row.getString("hint"),
                split(row.getString("federates_with"), ",").stream().map(TrustDomain::new).toList());
        return new RegistrationEntry(row.getString("id"), draft, row.getLong("revision"),
                Instant.ofEpochMilli(row.getLong("created_at")), Instant.ofEpochMilli(row.getLong("updated_at")));
    }

    static String placeholders(int rows, int columns) {
        String row = "(" + String.join(",", Collections.nCopies(columns, "?")) + ")";
        return String.join(",", Collections.nCopies(rows, row));
    }

    private static int bindDraft(PreparedStatement statement, int first, EntryDraft draft) throws SQLException {
        int p = first;
        statement.setString(p++, draft.spiffeId().toString());
        statement.setString(p++, draft.parentId().toString());
        statement.setString(p++, canonicalSelectors(draft.selectors()));
        statement.setInt(p++, draft.selectors().size());
        statement.setString(p++, selectorsHash(draft.selectors()));
        statement.setString(p++, identityHash(draft));
        statement.setLong(p++, draft.x509SvidTtl().toMillis());
        statement.setLong(p++, draft.jwtSvidTtl().toMillis());
        statement.setString(p++, String.join(",", draft.dnsNames()));
        statement.setString(p++, draft.owner());
        if (draft.expiresAt().isPresent()) {
            statement.setLong(p++, draft.expiresAt().get().toEpochMilli());
        } else {
            statement.setNull(p++, Types.BIGINT);
        }
        statement.setBoolean(p++, draft.admin());
        statement.setString(p++, draft.hint());
        statement.setString(p++, draft.federatesWith().stream().map(TrustDomain::name).collect(Collectors.joining(",")));
        return p;
    }

    private static void insertSelectors(Connection connection, List<String[]> rows) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO registration_selectors (entry_id, selector_type, selector_value) VALUES (?, ?, ?)")) {
            for (String[] row : rows) {
                insert.setString(1, row[0]);
                insert.setString(2, row[1]);
                insert.setString(3, row[2]);
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    private static List<String> split(String joined, String separator) {
        return joined.isEmpty() ? List.of() : Arrays.asList(joined.split(separator, -1));
    }

    private static String sha256Hex(String... parts) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (String part : parts) {
                byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
                digest.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
                digest.update(bytes);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every java runtime has SHA-256", e);
        }
    }
}
