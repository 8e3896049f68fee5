package dev.sigil.agent.workload;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Looks up user and group names by id in {@code passwd}/{@code group}-format files
 * ({@code name:password:id:...}). Each file is parsed once and re-parsed whenever its modification
 * time, size or inode changes (checked with one stat per lookup), so account changes are seen at once
 * without re-reading the files on every Workload API call. Names only come from local files: no NSS,
 * LDAP or other network lookups.
 */
final class NameDatabase {
    private final Path passwd;
    private final Path group;
    private final Map<Path, Parsed> parsed = new ConcurrentHashMap<>();

    /** One parse of a file, valid while the file's identity and modification time stay the same. */
    private record Parsed(FileTime modified, long size, Object fileKey, Map<Long, String> names) {
        boolean stillDescribes(BasicFileAttributes attributes) {
            return modified.equals(attributes.lastModifiedTime()) && size == attributes.size()
                    && Objects.equals(fileKey, attributes.fileKey());
        }
    }

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

    private Optional<String> nameOf(Path file, long id) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            Parsed current = parsed.get(file);
            if (current == null || !current.stillDescribes(attributes)) {
                current = new Parsed(attributes.lastModifiedTime(), attributes.size(), attributes.fileKey(), parse(file));
                parsed.put(file, current);
            }
            return Optional.ofNullable(current.names().get(id));
        } catch (NoSuchFileException e) {
            parsed.remove(file);
            return Optional.empty();
        } catch (IOException e) {
            throw new WorkloadAttestationException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Id to name; the first line naming an id wins, as with getpwuid on a files database. */
    private static Map<Long, String> parse(Path file) throws IOException {
        Map<Long, String> names = new HashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] fields = line.split(":", -1);
            if (fields.length >= 3 && !fields[0].isEmpty()) {
                try {
                    names.putIfAbsent(Long.parseLong(fields[2]), fields[0]);
                } catch (NumberFormatException e) {
                    // a malformed id names nobody; skip the line as getpwuid would
                }
            }
        }
        return Map.copyOf(names);
    }
}
