package dev.sigil.server.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Keyed hashes of secrets (tokens, passwords) for audit records: {@code <key id>:<hex HMAC-SHA256>}.
 *
 * <p>Security properties: a plain SHA-256 of a high-entropy token is already hard to invert, but a
 * low-entropy secret's plain hash can be brute-forced by anyone who reads the trail; the keyed hash
 * cannot be computed, nor a guess checked, without the server's 256-bit HMAC key. Equal secrets hash
 * equally under one key, so a responder holding a leaked secret can find its records (the server
 * computes the hash: {@code POST /v1/audit/find-token}). The key lives in
 * {@code <data_dir>/keys/audit-hmac.key} (owner-only, written atomically on first start), or in the
 * operator's {@code audit.hmac_key_file}, which every server sharing a datastore must be given: the
 * datastore records the key id the first server used and a server with another key refuses to start
 * ({@link #agreeWith}), since its hashes would not find what the others recorded. The key id names
 * which key made a hash, so a replaced key is visible in the records. {@code toString()} never prints
 * the key.
 */
public final class SecretHasher {
    static final String FILE_NAME = "audit-hmac.key";
    private static final int KEY_BYTES = 32;

    private final SecretKeySpec key;
    private final String keyId;
    /** Initialised with the key once; only ever cloned (a provider lookup and key set-up per hash cost more than the hash). */
    private final Mac prototype;

    private SecretHasher(byte[] key) {
        this.key = new SecretKeySpec(key, "HmacSHA256");
        this.keyId = "k" + HexFormat.of().formatHex(sha256(key), 0, 4);
        this.prototype = newMac(this.key);
    }

    /** Loads {@code <keysDir>/audit-hmac.key}, creating it with a fresh random key when it is absent. */
    public static SecretHasher loadOrCreate(Path keysDir) {
        Path file = keysDir.resolve(FILE_NAME);
        try {
            if (!Files.exists(file)) {
                create(keysDir, file);
            }
            byte[] key = Files.readAllBytes(file);
            if (key.length != KEY_BYTES) {
                throw new IllegalStateException("audit hmac key " + file + " holds " + key.length + " bytes; expected " + KEY_BYTES
                        + " (restore it from backup; a new key cannot match existing records)");
            }
            return new SecretHasher(key);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read or create the audit hmac key " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Loads an operator's key file (shared by the servers of one datastore): it must exist, hold exactly
     * 32 bytes, and be readable by its owner only. Never created here: each server creating its own
     * would defeat sharing it.
     */
    public static SecretHasher loadShared(Path file) {
        try {
            if (!Files.isRegularFile(file)) {
                throw new AuditException("audit.hmac_key_file " + file + " does not exist; create it once (head -c 32 /dev/urandom > "
                        + file.getFileName() + "; chmod 600) and give the same file to every server sharing the datastore");
            }
            java.util.Set<java.nio.file.attribute.PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            if (mode.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
                throw new AuditException("audit.hmac_key_file " + file + " is accessible to group or others (mode "
                        + PosixFilePermissions.toString(mode) + "); chmod 600 it");
            }
            byte[] key = Files.readAllBytes(file);
            if (key.length != KEY_BYTES) {
                throw new AuditException("audit.hmac_key_file " + file + " holds " + key.length + " bytes; it must hold exactly "
                        + KEY_BYTES + " random bytes");
            }
            return new SecretHasher(key);
        } catch (IOException e) {
            throw new AuditException("cannot read audit.hmac_key_file " + file + ": " + e.getMessage());
        }
    }

    /**
     * Records this key's id in the datastore if none is recorded, and refuses to go on with another key
     * than the recorded one (fail closed: hashes under two keys would leave a leak reported to one server
     * unable to find what another granted, and {@code find-token} blind to half the trail).
     *
     * @throws AuditException when the datastore records another key id
     */
    public void agreeWith(dev.sigil.server.datastore.Datastore datastore, java.time.Instant now) {
        String recorded = datastore.inTransaction(connection -> {
            try (java.sql.PreparedStatement insert = connection.prepareStatement(
                    "INSERT INTO audit_hmac_key (name, key_id, recorded_at) VALUES ('current', ?, ?) ON CONFLICT (name) DO NOTHING")) {
                insert.setString(1, keyId);
                insert.setLong(2, now.toEpochMilli());
                insert.executeUpdate();
            }
            try (java.sql.PreparedStatement read = connection.prepareStatement("SELECT key_id FROM audit_hmac_key WHERE name = 'current'");
                 java.sql.ResultSet row = read.executeQuery()) {
                row.next();
                return row.getString(1);
            }
        });
        if (!recorded.equals(keyId)) {
            throw new AuditException("this server's audit hmac key (" + keyId + ") is not the key the servers sharing this datastore use ("
                    + recorded + "); give every server the same audit.hmac_key_file (docs/configuration.md)");
        }
    }

    private static void create(Path keysDir, Path file) throws IOException {
        if (!Files.isDirectory(keysDir)) {
            Files.createDirectories(keysDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        byte[] key = new byte[KEY_BYTES];
        new SecureRandom().nextBytes(key);
        Path tmp = keysDir.resolve(FILE_NAME + ".tmp");
        Files.deleteIfExists(tmp);
        try (FileChannel channel = FileChannel.open(tmp, java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
            channel.write(ByteBuffer.wrap(key));
            channel.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            Files.deleteIfExists(tmp);
        }
    }

    /** {@code <key id>:<64 hex chars>}, HMAC-SHA256 of the secret's UTF-8 bytes. */
    public String keyedHash(String secret) {
        Objects.requireNonNull(secret, "secret");
        Mac mac;
        try {
            mac = (Mac) prototype.clone();
        } catch (CloneNotSupportedException e) {
            mac = newMac(key);
        }
        return keyId + ":" + HexFormat.of().formatHex(mac.doFinal(secret.getBytes(StandardCharsets.UTF_8)));
    }

    private static Mac newMac(SecretKeySpec key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every java runtime has HmacSHA256", e);
        }
    }

    public String keyId() {
        return keyId;
    }

    @Override
    public String toString() {
        return "SecretHasher[keyId=" + keyId + "]";
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every java runtime has SHA-256", e);
        }
    }
}
