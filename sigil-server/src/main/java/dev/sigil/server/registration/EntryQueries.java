package dev.sigil.server.registration;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The read side of the entry store. Listings are ordered by id and paged by "id greater than the
 * last one returned". Filters on SPIFFE ID, parent ID and owner use their column indexes; selector
 * filters first narrow the entries down through {@link SelectorLookup}, then check each candidate's
 * stored selector set exactly, in id order, until the page is full.
 */
final class EntryQueries {
    private static final String TOKEN_PREFIX = "entry-id:";
    private static final int CANDIDATES_PER_QUERY = 500;

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
        String afterId = page.token().map(EntryQueries::decodeToken).orElse(null);
        if (filter.selectors().isPresent()) {
            return listBySelectors(connection, filter, filter.selectors().get(), afterId, page.size());
        }
        List<Object> parameters = new ArrayList<>();
        StringBuilder sql = new StringBuilder("SELECT " + EntryRows.COLUMNS + " FROM registration_entries WHERE 1 = 1");
        appendColumnFilters(sql, parameters, filter);
        if (afterId != null) {
            sql.append(" AND id > ?");
            parameters.add(afterId);
        }
        sql.append(" ORDER BY id LIMIT ?");
        parameters.add(page.size() + 1);
        return toPage(selectEntries(connection, sql.toString(), parameters), page.size());
    }

    private static Page<RegistrationEntry> listBySelectors(Connection connection, EntryFilter filter, EntryFilter.SelectorMatch match,
            String afterId, int size) throws SQLException {
        Set<String> wanted = new HashSet<>();
        match.selectors().forEach(selector -> wanted.add(selector.toString()));
        List<String> candidates = new ArrayList<>(SelectorLookup.candidates(connection, match, afterId));
        List<String> matching = new ArrayList<>();
        for (int start = 0; start < candidates.size() && matching.size() <= size; start += CANDIDATES_PER_QUERY) {
            List<String> chunk = candidates.subList(start, Math.min(candidates.size(), start + CANDIDATES_PER_QUERY));
            List<Object> parameters = new ArrayList<>(chunk);
            StringBuilder sql = new StringBuilder("SELECT id, selectors FROM registration_entries WHERE id IN ("
                    + String.join(",", Collections.nCopies(chunk.size(), "?")) + ")");
            appendColumnFilters(sql, parameters, filter);
            sql.append(" ORDER BY id");
            try (PreparedStatement select = connection.prepareStatement(sql.toString())) {
                bind(select, parameters);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next() && matching.size() <= size) {
                        if (SelectorLookup.matches(match.mode(), wanted, rows.getString(2))) {
                            matching.add(rows.getString(1));
                        }
                    }
                }
            }
        }
        if (matching.isEmpty()) {
            return new Page<>(List.of(), Optional.empty());
        }
        String sql = "SELECT " + EntryRows.COLUMNS + " FROM registration_entries WHERE id IN ("
                + String.join(",", Collections.nCopies(matching.size(), "?")) + ") ORDER BY id";
        return toPage(selectEntries(connection, sql, new ArrayList<>(matching)), size);
    }

    private static void appendColumnFilters(StringBuilder sql, List<Object> parameters, EntryFilter filter) {
        filter.spiffeId().ifPresent(id -> {
            sql.append(" AND spiffe_id = ?");
            parameters.add(id.toString());
        });
        filter.parentId().ifPresent(id -> {
            sql.append(" AND parent_id = ?");
            parameters.add(id.toString());
        });
        filter.owner().ifPresent(owner -> {
            sql.append(" AND owner = ?");
            parameters.add(owner);
        });
    }

    private static List<RegistrationEntry> selectEntries(Connection connection, String sql, List<Object> parameters) throws SQLException {
        List<RegistrationEntry> entries = new ArrayList<>();
        try (PreparedStatement select = connection.prepareStatement(sql)) {
            bind(select, parameters);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    entries.add(EntryRows.read(rows));
                }
            }
        }
        return entries;
    }

    private static void bind(PreparedStatement statement, List<Object> parameters) throws SQLException {
        for (int i = 0; i < parameters.size(); i++) {
            statement.setObject(i + 1, parameters.get(i));
        }
    }

    /** The first {@code size} entries, and a token for the rest when there is one more. */
    private static Page<RegistrationEntry> toPage(List<RegistrationEntry> entries, int size) {
        if (entries.size() <= size) {
            return new Page<>(entries, Optional.empty());
        }
        List<RegistrationEntry> items = entries.subList(0, size);
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
