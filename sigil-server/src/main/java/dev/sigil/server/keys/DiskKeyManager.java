package dev.sigil.server.keys;

import dev.sigil.core.crypto.KeyType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keys as PKCS#8 PEM files named {@code <key id>.pem} in one directory.
 *
 * <p>Guarantees: the directory is mode 0700 and every key file 0600, owned by the server's user; a
 * file that group or others can read is refused rather than used. A key is written to a temporary
 * file in the same directory, forced to disk, atomically renamed over the old one and the directory
 * is forced, so after a crash at any point a key id names either the complete old key or the
 * complete new one. Temporary files left by a crash are removed when the directory is opened.
 */
final class DiskKeyManager implements KeyManager {
    private static final Logger LOG = LoggerFactory.getLogger(DiskKeyManager.class);
    private static final String SUFFIX = ".pem";
    private static final String TEMP_SUFFIX = ".tmp";
    private static final Set<PosixFilePermission> DIRECTORY_MODE = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path directory;
    private final ConcurrentHashMap<String, SoftwareKey> loaded = new ConcurrentHashMap<>();

    private DiskKeyManager(Path directory) {
        this.directory = directory;
    }

    static DiskKeyManager open(Path directory) {
        Path dir = directory.toAbsolutePath().normalize();
        try {
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(DIRECTORY_MODE));
            }
            if (!Files.isDirectory(dir)) {
                throw new KeyManagerException("key directory " + dir + " is not a directory");
            }
            if (!Files.getPosixFilePermissions(dir).equals(DIRECTORY_MODE)) {
                LOG.warn("key directory {} had mode {}; setting it to rwx------", dir,
                        PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
                Files.setPosixFilePermissions(dir, DIRECTORY_MODE);
            }
            try (DirectoryStream<Path> stale = Files.newDirectoryStream(dir, "." + "*" + TEMP_SUFFIX)) {
                for (Path file : stale) {
                    Files.deleteIfExists(file);
                }
            }
        } catch (UnsupportedOperationException e) {
            throw new KeyManagerException("key directory " + dir + " is on a file system without POSIX permissions;"
                    + " the disk key manager needs them to keep keys private", e);
        } catch (IOException e) {
            throw new KeyManagerException("cannot prepare key directory " + dir + ": " + e, e);
        }
        return new DiskKeyManager(dir);
    }

    @Override
    public synchronized KeyHandle generate(String keyId, KeyType type) {
        KeyIds.validate(keyId);
        Objects.requireNonNull(type, "type");
        KeyPair pair = PrivateKeys.generate(type);
        writeAtomically(fileOf(keyId), PrivateKeys.encodePkcs8Pem(pair.getPrivate()));
        SoftwareKey key = new SoftwareKey(keyId, type, pair.getPrivate(), pair.getPublic());
        loaded.put(keyId, key);
        return key;
    }

    @Override
    public Optional<KeyHandle> find(String keyId) {
        KeyIds.validate(keyId);
        SoftwareKey cached = loaded.get(keyId);
        if (cached != null) {
            return Optional.of(cached);
        }
        synchronized (this) {
            return load(keyId).map(key -> {
                loaded.put(keyId, key);
                return key;
            });
        }
    }

    @Override
    public synchronized void delete(String keyId) {
        KeyIds.validate(keyId);
        loaded.remove(keyId);
        try {
            if (Files.deleteIfExists(fileOf(keyId))) {
                forceDirectory();
            }
        } catch (IOException e) {
            throw new KeyManagerException("cannot delete key file " + fileOf(keyId) + ": " + e, e);
        }
    }

    @Override
    public List<KeyHandle> list() {
        List<String> ids = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                String id = name.substring(0, name.length() - SUFFIX.length());
                if (!name.startsWith(".") && !id.isEmpty()) {
                    ids.add(id);
                }
            }
        } catch (IOException e) {
            throw new KeyManagerException("cannot list key directory " + directory + ": " + e, e);
        }
        return ids.stream().sorted().flatMap(id -> find(id).stream()).toList();
    }

    @Override
    public String describe() {
        return "disk key manager at " + directory;
    }

    @Override
    public String toString() {
        return "DiskKeyManager[" + directory + "]";
    }

    private Path fileOf(String keyId) {
        return directory.resolve(keyId + SUFFIX);
    }

    private Optional<SoftwareKey> load(String keyId) {
        Path file = fileOf(keyId);
        String pem;
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
            if (!FILE_MODE.containsAll(mode)) {
                throw new KeyManagerException("key file " + file + " has mode " + PosixFilePermissions.toString(mode)
                        + "; it must be readable by its owner only (chmod 600 " + file + ")");
            }
            pem = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new KeyManagerException("cannot read key file " + file + ": " + e, e);
        }
        PrivateKeys.Decoded decoded = PrivateKeys.decodePem(pem, "key file " + file);
        return Optional.of(new SoftwareKey(keyId, decoded.type(), decoded.privateKey(), decoded.publicKey()));
    }

    private void writeAtomically(Path target, String content) {
        byte[] suffix = new byte[8];
        RANDOM.nextBytes(suffix);
        Path temp = directory.resolve("." + target.getFileName() + "." + HexFormat.of().formatHex(suffix) + TEMP_SUFFIX);
        try {
            Files.createFile(temp, PosixFilePermissions.asFileAttribute(FILE_MODE));
            Files.setPosixFilePermissions(temp, FILE_MODE);
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(content.getBytes(StandardCharsets.US_ASCII));
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            forceDirectory();
        } catch (AtomicMoveNotSupportedException e) {
            throw new KeyManagerException("key directory " + directory + " does not support atomic renames", e);
        } catch (IOException e) {
            throw new KeyManagerException("cannot write key file " + target + ": " + e, e);
        } finally {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException e) {
                LOG.warn("cannot remove temporary key file {}: {}", temp, e.toString());
            }
        }
    }

    /** Makes a rename or delete in the directory durable. */
    private void forceDirectory() throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
