package dev.sigil.agent.workload;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Looks up user and group names by id in {@code passwd}/{@code group}-format files
 * ({@code name:password:id:...}). Read on every lookup (the files are small), so account changes are
 * seen at once. Names only come from local files: no NSS, LDAP or other network lookups.
 */
final class NameDatabase {
    private final Path passwd;
    private final Path group;

    NameDatabase(Path etcRoot) {
        this.passwd = etcRoot.resolve("passwd");
        this.group = etcRoot.resolve("group");
    }

    Optional<String> userName(long uid) {
        return nameOf(passwd, uid);
    }

    Optional<String> groupName(long gid) {
        return nameOf(group, gid);
    }

    private static Optional<String> nameOf(Path file, long id) {
        String wanted = Long.toString(id);
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String[] fields = line.split(":", -1);
                if (fields.length >= 3 && fields[2].equals(wanted) && !fields[0].isEmpty()) {
                    return Optional.of(fields[0]);
                }
            }
            return Optional.empty();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new WorkloadAttestationException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
