package dev.sigil.agent.workload;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * SHA-256 of workload binaries, cached by path, device, inode, size and modification time so that a binary is
 * hashed once until it is replaced. A replaced binary changes at least one of those (a new inode for
 * an atomic rename, size or mtime for an in-place write), so the cache never answers for old content
 * under normal file replacement.
 */
final class BinaryDigests {
    private static final int MAX_ENTRIES = 4096;

    private record Key(String path, Object device, Object inode, long size, long mtimeNanos) {}

    private final Map<Key, String> cache = new ConcurrentHashMap<>();

    /**
     * The hex SHA-256 of the file that {@code open} names ({@code /proc/<pid>/exe}, which opens the
     * running binary even when it was renamed or deleted); {@code path} is the binary's reported path.
     */
    String sha256(Path open, String path) throws IOException {
        Map<String, Object> attributes = Files.readAttributes(open, "unix:dev,ino,size,lastModifiedTime");
        Key key = new Key(path, attributes.get("dev"), attributes.get("ino"), ((Number) attributes.get("size")).longValue(),
                ((java.nio.file.attribute.FileTime) attributes.get("lastModifiedTime")).to(java.util.concurrent.TimeUnit.NANOSECONDS));
        String cached = cache.get(key);
        if (cached != null) {
            return cached;
        }
        String digest = hash(open);
        if (cache.size() >= MAX_ENTRIES) {
            cache.clear();
        }
        cache.put(key, digest);
        return digest;
    }

    private static String hash(Path file) throws IOException {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the jdk has no sha-256", e);
        }
        byte[] buffer = new byte[64 * 1024];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                sha256.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(sha256.digest());
    }
}
