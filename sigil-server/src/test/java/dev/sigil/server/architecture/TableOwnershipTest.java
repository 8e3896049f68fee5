package dev.sigil.server.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Each datastore table belongs to one component, and only that component's code names it in SQL: another
 * component goes through the owner's store interface, inside a transaction the owner's methods join. (Read
 * from the sources: SQL lives in string literals, which compiled-class rules cannot see.)
 */
class TableOwnershipTest {
    private static final Path SOURCES = Path.of("src/main/java/dev/sigil/server");
    private static final Map<String, String> OWNER = Map.ofEntries(
            Map.entry("agents", "agent"),
            Map.entry("audit_checkpoints", "audit"), Map.entry("audit_checkpoint_keys", "audit"), Map.entry("audit_hmac_key", "audit"), Map.entry("audit_head", "audit"), Map.entry("audit_records", "audit"),
            Map.entry("authority_bundle", "authority"), Map.entry("authority_journal", "authority"),
            Map.entry("drift_gates", "drift"),
            Map.entry("federation_relationships", "federation"),
            Map.entry("issued_tokens", "token"),
            Map.entry("protected_resources", "resource"),
            Map.entry("job_leader", "jobs"), Map.entry("server_instances", "jobs"), Map.entry("used_node_tokens", "agent"),
            Map.entry("join_tokens", "registration"), Map.entry("registration_entries", "registration"),
            Map.entry("registration_revision", "registration"), Map.entry("registration_selectors", "registration"),
            Map.entry("registration_tombstones", "registration"),
            Map.entry("leases", "credential"),
            Map.entry("policy_versions", "policy"),
            Map.entry("tasks", "task"),
            Map.entry("token_status", "status"), Map.entry("token_status_counter", "status"));
    private static final Pattern SQL_TABLE = Pattern.compile("(?i)\\b(?:from|join|update|into|table)\\s+([a-z_]+)\\b");

    @Test
    void onlyATablesOwnerNamesItInSql() throws IOException {
        List<String> trespasses = new ArrayList<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String component = SOURCES.relativize(file).getNameCount() > 1 ? SOURCES.relativize(file).getName(0).toString() : "";
                Matcher matcher = SQL_TABLE.matcher(Files.readString(file));
                while (matcher.find()) {
                    String owner = OWNER.get(matcher.group(1).toLowerCase(java.util.Locale.ROOT));
                    if (owner != null && !owner.equals(component)) {
                        trespasses.add(SOURCES.relativize(file) + ": '" + matcher.group() + "' (owned by " + owner + ")");
                    }
                }
            }
        }
        assertThat(trespasses).isEmpty();
    }

    @Test
    void everyTableInTheMigrationsHasAnOwner() throws IOException {
        Pattern create = Pattern.compile("(?i)create table (?:if not exists )?([a-z0-9_]+)");
        // SQLite cannot alter a constraint: a migration rebuilds the table under a temporary name and renames
        // it back, so a table renamed away in the same file is that temporary copy, not a table of its own
        Pattern renamed = Pattern.compile("(?i)alter table ([a-z0-9_]+) rename to ");
        List<String> tables = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/resources"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".sql")).toList()) {
                String sql = Files.readString(file);
                List<String> temporary = renamed.matcher(sql).results().map(m -> m.group(1).toLowerCase(java.util.Locale.ROOT)).toList();
                Matcher matcher = create.matcher(sql);
                while (matcher.find()) {
                    String table = matcher.group(1).toLowerCase(java.util.Locale.ROOT);
                    if (!temporary.contains(table)) {
                        tables.add(table);
                    }
                }
            }
        }
        assertThat(tables).isNotEmpty();
        assertThat(OWNER).containsKeys(tables.toArray(String[]::new));
    }
}
