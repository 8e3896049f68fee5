package dev.sigil.server.registration;

import dev.sigil.core.selector.Selector;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * The read side of the entry store.
 *
 * <p>Selector filters are answered from the registration_selectors_lookup index
 * {@code (selector_type, selector_value, entry_id)}. For SUBSET (the agent's question: which entries
 * apply to a workload with selectors F?) the query is
 *
 * <pre>
 *   SELECT e.* FROM registration_entries e
 *   JOIN (SELECT entry_id, COUNT(*) AS matched FROM registration_selectors
 *         WHERE (selector_type = ? AND selector_value = ?) OR ...      -- one term per selector in F
 *         GROUP BY entry_id) m ON m.entry_id = e.id
 *   WHERE m.matched = e.selector_count                                 -- every selector of e is in F
 *   AND e.id > ? ORDER BY e.id LIMIT ?
 * </pre>
 *
 * The inner query does one index range probe per selector of F and touches only the (selector,
 * entry) pairs that match, so its cost does not grow with the number of stored entries; the join is
 * by primary key. SUPERSET is the same with {@code m.matched = |F|}. EXACT needs no join: it compares
 * the indexed {@code selectors_hash} column with the hash of F.
 */
final class EntryQueries {
    private static final String TOKEN_PREFIX = "entry-id:";

    private EntryQueries() {}

    static Optional<RegistrationEntry> find(Connection connection, String id) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT " + EntryRows.COLUMNS + " FROM registration_entries WHERE id = ?")) {
            select.setString(1, id);
            try (ResultSet row = select.executeQuery()) {
                return row.next() ? Optional.of(EntryRows.read(row)) : Optional.empty();
            }
        }
    }

    static Page<RegistrationEntry> list(Connection connection, EntryFilter filter, PageRequest page) throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT ");
        sql.append(EntryRows.columns("e")).append(" FROM registration_entries e");
        List<Object> parameters = new ArrayList<>();
        Optional<EntryFilter.SelectorMatch> match = filter.selectors();
        boolean joined = match.isPresent() && match.get().mode() != EntryFilter.MatchMode.EXACT;
        if (joined) {
            sql.append(" JOIN (SELECT entry_id, COUNT(*) AS matched FROM registration_selectors WHERE ");
            List<Selector> selectors = match.get().selectors();
            for (int i = 0; i < selectors.size(); i++) {
                sql.append(i == 0 ? "" : " OR ").append("(selector_type = ? AND selector_value = ?)");
                parameters.add(selectors.get(i).type());
                parameters.add(selectors.get(i).value());
            }
            sql.append(" GROUP BY entry_id) m ON m.entry_id = e.id");
        }
        sql.append(" WHERE 1 = 1");
        if (match.isPresent()) {
            switch (match.get().mode()) {
                case EXACT -> {
                    sql.append(" AND e.selectors_hash = ?");
                    parameters.add(EntryRows.selectorsHash(match.get().selectors()));
                }
                case SUBSET -> sql.append(" AND m.matched = e.selector_count");
                case SUPERSET -> {
                    sql.append(" AND m.matched = ?");
                    parameters.add(match.get().selectors().size());
                }
            }
        }
        filter.spiffeId().ifPresent(id -> {
            sql.append(" AND e.spiffe_id = ?");
            parameters.add(id.toString());
        });
        filter.parentId().ifPresent(id -> {
            sql.append(" AND e.parent_id = ?");
            parameters.add(id.toString());
        });
        filter.owner().ifPresent(owner -> {
            sql.append(" AND e.owner = ?");
            parameters.add(owner);
        });
        if (page.token().isPresent()) {
            sql.append(" AND e.id > ?");
            parameters.add(decodeToken(page.token().get()));
        }
        sql.append(" ORDER BY e.id LIMIT ?");
        parameters.add(page.size() + 1);
        List<RegistrationEntry> entries = new ArrayList<>();
        try (PreparedStatement select = connection.prepareStatement(sql.toString())) {
            for (int i = 0; i < parameters.size(); i++) {
                select.setObject(i + 1, parameters.get(i));
            }
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    entries.add(EntryRows.read(rows));
                }
            }
        }
        if (entries.size() <= page.size()) {
            return new Page<>(entries, Optional.empty());
        }
        List<RegistrationEntry> items = entries.subList(0, page.size());
        return new Page<>(items, Optional.of(encodeToken(items.getLast().id())));
    }

    static EntryChanges changesSince(Connection connection, long revision, int limit) throws SQLException {
        // Bound by the counter read first: every change up to it has committed (changes commit in
        // revision order), so nothing at or below the bound can appear later.
        long current = RevisionCounter.current(connection);
        List<RegistrationEntry> changed = new ArrayList<>();
        try (PreparedStatement select = connection.prepareStatement("SELECT " + EntryRows.COLUMNS + " FROM registration_entries "
                + "WHERE revision > ? AND revision <= ? ORDER BY revision LIMIT ?")) {
            select.setLong(1, revision);
            select.setLong(2, current);
            select.setInt(3, limit + 1);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    changed.add(EntryRows.read(rows));
                }
            }
        }
        List<Deletion> deletions = new ArrayList<>();
        try (PreparedStatement select = connection.prepareStatement("SELECT entry_id, revision FROM registration_tombstones "
                + "WHERE revision > ? AND revision <= ? ORDER BY revision LIMIT ?")) {
            select.setLong(1, revision);
            select.setLong(2, current);
            select.setInt(3, limit + 1);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    deletions.add(new Deletion(rows.getString(1), rows.getLong(2)));
                }
            }
        }
        // Merge both revision-ordered lists and keep the first `limit` changes.
        List<RegistrationEntry> keptChanged = new ArrayList<>();
        List<String> keptDeleted = new ArrayList<>();
        int c = 0;
        int d = 0;
        long through = revision;
        while (keptChanged.size() + keptDeleted.size() < limit && (c < changed.size() || d < deletions.size())) {
            boolean takeChanged = d >= deletions.size()
                    || (c < changed.size() && changed.get(c).revision() < deletions.get(d).revision());
            if (takeChanged) {
                through = changed.get(c).revision();
                keptChanged.add(changed.get(c++));
            } else {
                through = deletions.get(d).revision();
                keptDeleted.add(deletions.get(d++).id());
            }
        }
        boolean more = c < changed.size() || d < deletions.size();
        return new EntryChanges(keptChanged, keptDeleted, more ? through : current, more);
    }

    private record Deletion(String id, long revision) {}

    static String encodeToken(String lastId) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString((TOKEN_PREFIX + lastId).getBytes(StandardCharsets.UTF_8));
    }

    static String decodeToken(String token) {
        try {
            String decoded = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
            if (decoded.startsWith(TOKEN_PREFIX) && decoded.length() > TOKEN_PREFIX.length()) {
                return decoded.substring(TOKEN_PREFIX.length());
            }
        } catch (IllegalArgumentException e) {
            // falls through to the error below
        }
        throw RegistrationException.invalid("page token '" + token + "' is not one this server issued; "
                + "pass the next-page token of a previous page unchanged, or none for the first page");
    }
}
