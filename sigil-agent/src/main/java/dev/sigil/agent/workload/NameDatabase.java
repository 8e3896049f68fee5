package dev.sigil.agent.workload;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Looks up user and group names by id in {@code passwd}/{@code group}-format files
 * ({@code name:password:id:...}). Each file is parsed once and re-parsed whenever its modification
 * time, size or inode changes. That is checked (one stat) at most once per {@link #DEFAULT_TTL} per
 * file, so an account change is seen within that time without a file system call on every Workload
 * API call. A file that cannot be read fails the lookup (the caller is not attested) and is read again
 * at the next lookup. Names only come from local files: no NSS, LDAP or other network lookups.
 */
final class NameDatabase {
    /** How long a parse is used without checking that its file is unchanged. */
    static final Duration DEFAULT_TTL = Duration.ofSeconds(1);

    private final Path passwd;
    private final Path group;
    private final Clock clock;
    private final long ttlMillis;
    private final Map<Path, Parsed> parsed = new ConcurrentHashMap<>();

    /** One parse of a file, valid while the file's identity and modification time stay the same; checked at {@code checkedAt}. */
    private record Parsed(FileTime modified, long size, Object fileKey, Map<Long, String> names, long checkedAt) {
        boolean stillDescribes(BasicFileAttributes attributes) {
            return modified.equals(attributes.lastModifiedTime()) && size == attributes.size()
                    && Objects.equals(fileKey, attributes.fileKey());
        }

        Parsed checked(long now) {
            return new Parsed(modified, size, fileKey, names, now);
        }
    }

    NameDatabase(Path etcRoot) {
        this(etcRoot, Clock.systemUTC(), DEFAULT_TTL);
    }

    NameDatabase(Path etcRoot, Clock clock, Duration ttl) {
        this.passwd = etcRoot.resolve("passwd");
        this.group = etcRoot.resolve("group");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.ttlMillis = ttl.toMillis();
    }

    Optional<String> userName(long uid) {
        return nameOf(passwd, uid);
    }

    Optional<String> groupName(long gid) {
        return nameOf(group, gid);
    }

    private Optional<String> nameOf(Path file, long id) {
        long now = clock.millis();
        Parsed current = parsed.get(file);
        if (current != null && now - current.checkedAt() < ttlMillis && now >= current.checkedAt()) {
            return Optional.ofNullable(current.names().get(id));
        }
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            if (current == null || !current.stillDescribes(attributes)) {
                current = new Parsed(attributes.lastModifiedTime(), attributes.size(), attributes.fileKey(), parse(file), now);
            } else {
                current = current.checked(now);
            }
            parsed.put(file, current);
            return Optional.ofNullable(current.names().get(id));
        } catch (NoSuchFileException e) {
            parsed.remove(file);
            return Optional.empty();
        } catch (IOException e) {
            parsed.remove(file); // fail closed now and read again next time
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
