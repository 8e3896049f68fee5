package dev.sigil.server.registration;

import dev.sigil.core.selector.Selector;
import dev.sigil.server.registration.EntryFilter.MatchMode;
import dev.sigil.server.registration.EntryFilter.SelectorMatch;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Finds the entries a selector filter may match, from the registration_selectors_lookup index
 * {@code (selector_type, selector_value, entry_id)} and the registration_entries_selectors_hash
 * index, without reading every entry. The candidates are a superset of the matches; {@link #matches}
 * decides each candidate exactly from its stored selector set.
 *
 * <p>The queries, for a filter with selector set F:
 * <pre>
 *   -- how common is each selector of F (capped; an index-only range scan each):
 *   SELECT 0 AS position, COUNT(*) AS n FROM (SELECT 1 AS one FROM registration_selectors
 *       WHERE selector_type = ? AND selector_value = ? ORDER BY entry_id LIMIT 2001) probe0
 *   UNION ALL SELECT 1, COUNT(*) FROM (...) probe1 ...
 *   -- entries holding some given selectors (index range scans, OR-ed):
 *   SELECT entry_id FROM registration_selectors
 *       WHERE (selector_type = ? AND selector_value = ?) OR (selector_type = ? AND selector_value = ?) ...
 *   -- entries whose whole selector set is one of the given sets (index probes):
 *   SELECT id FROM registration_entries WHERE selectors_hash IN (?, ?, ...)
 *   -- then, per 500 candidates in id order, the other filters and the exact check:
 *   SELECT id, selectors FROM registration_entries WHERE id IN (...) AND parent_id = ? ... ORDER BY id
 * </pre>
 *
 * <p>How each mode stays fast with many entries, even when some selectors are on most of them
 * ({@code k8s:sa:default}):
 * <ul>
 *   <li>EXACT: {@code selectors_hash = hash(F)}, one index probe.
 *   <li>SUPERSET (the entry has all of F): the entries holding F's rarest selector.
 *   <li>SUBSET (every selector of the entry is in F, the agent's question): F splits into rare
 *       selectors (on at most {@value #RARE_LIMIT} entries) and popular ones. An entry that has a
 *       rare selector is among that selector's entries, which are few; an entry made only of popular
 *       selectors has a selector set that is a subset of the popular ones, whose hashes are
 *       enumerated and looked up in the selectors_hash index (at most 2^{@value #MAX_POPULAR} - 1
 *       probes). Only with more popular selectors than that does the lookup fall back to reading
 *       every entry that holds any selector of F.
 * </ul>
 * Measured on SQLite with 100,000 entries, one selector on all of them and one on 1,000 each: a
 * SUBSET lookup with five selectors takes about 10 ms; the plain counting join
 * ({@code GROUP BY entry_id HAVING COUNT(*) = selector_count}) took about 200 ms.
 */
final class SelectorLookup {
    static final int RARE_LIMIT = 2000;
    static final int MAX_POPULAR = 12;
    private static final int PROBES_PER_QUERY = 100;
    private static final int KEYS_PER_QUERY = 500;

    private SelectorLookup() {}

    /** Ids, in order, of every entry that may match; those at or before {@code afterId} are left out. */
    static TreeSet<String> candidates(Connection connection, SelectorMatch match, String afterId) throws SQLException {
        List<Selector> wanted = match.selectors();
        TreeSet<String> ids = new TreeSet<>();
        switch (match.mode()) {
            case EXACT -> ids.addAll(idsWithSelectorsHash(connection, List.of(EntryRows.selectorsHash(wanted))));
            case SUPERSET -> {
                long[] frequency = frequencies(connection, wanted);
                int rarest = 0;
                for (int i = 1; i < wanted.size(); i++) {
                    rarest = frequency[i] < frequency[rarest] ? i : rarest;
                }
                if (frequency[rarest] > 0) {
                    ids.addAll(idsHolding(connection, List.of(wanted.get(rarest))));
                }
            }
            case SUBSET -> {
                long[] frequency = frequencies(connection, wanted);
                List<Selector> rare = new ArrayList<>();
                List<Selector> popular = new ArrayList<>();
                for (int i = 0; i < wanted.size(); i++) {
                    if (frequency[i] > RARE_LIMIT) {
                        popular.add(wanted.get(i));
                    } else if (frequency[i] > 0) {
                        rare.add(wanted.get(i));
                    }
                }
                if (popular.size() > MAX_POPULAR) {
                    ids.addAll(idsHolding(connection, wanted));
                } else {
                    ids.addAll(idsHolding(connection, rare));
                    ids.addAll(idsWithSelectorsHash(connection, subsetHashes(popular)));
                }
            }
        }
        return afterId == null ? ids : new TreeSet<>(ids.tailSet(afterId, false));
    }

    /** Whether an entry whose canonical selector column is {@code storedSelectors} matches exactly. */
    static boolean matches(MatchMode mode, Set<String> wanted, String storedSelectors) {
        Set<String> stored = new HashSet<>(Arrays.asList(storedSelectors.split("\n")));
        return switch (mode) {
            case EXACT -> stored.equals(wanted);
            case SUBSET -> wanted.containsAll(stored);
            case SUPERSET -> stored.containsAll(wanted);
        };
    }

    /**
     * For each selector, on how many entries it is, counted up to RARE_LIMIT + 1. The ORDER BY
     * follows the lookup index, so PostgreSQL reads the index instead of scanning the table for
     * the first rows of a popular selector.
     */
    private static long[] frequencies(Connection connection, List<Selector> selectors) throws SQLException {
        long[] counts = new long[selectors.size()];
        for (int start = 0; start < selectors.size(); start += PROBES_PER_QUERY) {
            int end = Math.min(selectors.size(), start + PROBES_PER_QUERY);
            StringBuilder sql = new StringBuilder();
            for (int i = start; i < end; i++) {
                sql.append(i == start ? "" : " UNION ALL ").append("SELECT ").append(i)
                        .append(" AS position, COUNT(*) AS n FROM (SELECT 1 AS one FROM registration_selectors")
                        .append(" WHERE selector_type = ? AND selector_value = ? ORDER BY entry_id LIMIT ").append(RARE_LIMIT + 1)
                        .append(") probe").append(i);
            }
            try (PreparedStatement select = connection.prepareStatement(sql.toString())) {
                int p = 1;
                for (int i = start; i < end; i++) {
                    select.setString(p++, selectors.get(i).type());
                    select.setString(p++, selectors.get(i).value());
                }
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        counts[rows.getInt(1)] = rows.getLong(2);
                    }
                }
            }
        }
        return counts;
    }

    private static List<String> idsHolding(Connection connection, List<Selector> selectors) throws SQLException {
        List<String> ids = new ArrayList<>();
        for (int start = 0; start < selectors.size(); start += PROBES_PER_QUERY) {
            List<Selector> chunk = selectors.subList(start, Math.min(selectors.size(), start + PROBES_PER_QUERY));
            StringBuilder sql = new StringBuilder("SELECT entry_id FROM registration_selectors WHERE ");
            for (int i = 0; i < chunk.size(); i++) {
                sql.append(i == 0 ? "" : " OR ").append("(selector_type = ? AND selector_value = ?)");
            }
            try (PreparedStatement select = connection.prepareStatement(sql.toString())) {
                int p = 1;
                for (Selector selector : chunk) {
                    select.setString(p++, selector.type());
                    select.setString(p++, selector.value());
                }
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        ids.add(rows.getString(1));
                    }
                }
            }
        }
        return ids;
    }

    private static List<String> idsWithSelectorsHash(Connection connection, List<String> hashes) throws SQLException {
        List<String> ids = new ArrayList<>();
        for (int start = 0; start < hashes.size(); start += KEYS_PER_QUERY) {
            List<String> chunk = hashes.subList(start, Math.min(hashes.size(), start + KEYS_PER_QUERY));
            try (PreparedStatement select = connection.prepareStatement("SELECT id FROM registration_entries WHERE selectors_hash IN ("
                    + String.join(",", Collections.nCopies(chunk.size(), "?")) + ")")) {
                for (int i = 0; i < chunk.size(); i++) {
                    select.setString(i + 1, chunk.get(i));
                }
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        ids.add(rows.getString(1));
                    }
                }
            }
        }
        return ids;
    }

    /** Hashes of every non-empty subset of {@code selectors} (sorted, so each subset is already canonical). */
    private static List<String> subsetHashes(List<Selector> selectors) {
        List<String> hashes = new ArrayList<>();
        for (int mask = 1; mask < (1 << selectors.size()); mask++) {
            List<Selector> subset = new ArrayList<>();
            for (int i = 0; i < selectors.size(); i++) {
                if ((mask & (1 << i)) != 0) {
                    subset.add(selectors.get(i));
                }
            }
            hashes.add(EntryRows.selectorsHash(subset));
        }
        return hashes;
    }
}
