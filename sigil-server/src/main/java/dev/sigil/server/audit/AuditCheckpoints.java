package dev.sigil.server.audit;

import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.keys.KeyHandle;
import dev.sigil.server.keys.KeyManager;
import dev.sigil.core.crypto.KeyType;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Signed checkpoints of the audit chain. A checkpoint is taken when {@code every} records were
 * appended since the last one, or when {@code interval} has passed and anything was appended; the
 * server calls {@link #checkpointIfDue()} from its maintenance loop.
 *
 * <p>Security property: the signing key ({@value #KEY_ID}, ECDSA P-256) lives in the {@link KeyManager}
 * and never leaves it, so an attacker who can rewrite the database but not read the key cannot forge a
 * checkpoint. {@link AuditTrail#verify()} therefore detects a chain cut or rewritten below the last
 * checkpoint even when the head row was rewritten consistently. Records appended after the last
 * checkpoint are covered only by the hash chain. Deleting the newest checkpoints is not detectable
 * from the database alone; keep exported checkpoints (or the key's PEM and a copy of the newest
 * checkpoint) elsewhere for that.
 */
public final class AuditCheckpoints {
    public static final String KEY_ID = "audit-checkpoint";
    public static final int DEFAULT_EVERY = 100;
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);
    private static final String DOMAIN = "sigil-audit-checkpoint-v1";
    private static final String ENDORSEMENT_DOMAIN = "sigil-audit-checkpoint-key-v1:";
    private static final String COLUMNS = "id, seq, head_hash, signed_at, key_id, public_key, signature";

    private final Datastore datastore;
    private final KeyHandle key;
    private final Clock clock;
    private final long every;
    private final Duration interval;
    private final Optional<SecretHasher> endorser;

    private AuditCheckpoints(Datastore datastore, KeyHandle key, Clock clock, long every, Duration interval,
                             Optional<SecretHasher> endorser) {
        this.endorser = endorser;
        this.datastore = datastore;
        this.key = key;
        this.clock = clock;
        this.every = every;
        this.interval = interval;
    }

    /** Uses the {@value #KEY_ID} key in {@code keys}, generating it (ECDSA P-256) on first start. */
    public static AuditCheckpoints create(Datastore datastore, KeyManager keys, Clock clock, long every, Duration interval) {
        return create(datastore, keys, clock, every, interval, Optional.empty());
    }

    /**
     * {@link #create(Datastore, KeyManager, Clock, long, Duration)} for one of several servers sharing the
     * datastore: this server's checkpoint key is recorded endorsed by {@code endorser} (the audit hmac key
     * every such server shares), and verification trusts the checkpoints of every key so endorsed. Only a
     * holder of the hmac key can endorse a key, so rewriting the database alone still cannot forge a
     * checkpoint.
     */
    public static AuditCheckpoints create(Datastore datastore, KeyManager keys, Clock clock, long every, Duration interval,
                                          SecretHasher endorser) {
        AuditCheckpoints checkpoints = create(datastore, keys, clock, every, interval, Optional.of(endorser));
        String publicKey = checkpoints.encodedPublicKey();
        datastore.inTransaction(connection -> {
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO audit_checkpoint_keys (public_key, endorsement, added_at)"
                    + " VALUES (?, ?, ?) ON CONFLICT (public_key) DO NOTHING")) {
                insert.setString(1, publicKey);
                insert.setString(2, endorsement(endorser, publicKey));
                insert.setLong(3, clock.millis());
                return insert.executeUpdate();
            }
        });
        return checkpoints;
    }

    private static String endorsement(SecretHasher endorser, String publicKey) {
        return endorser.keyedHash(ENDORSEMENT_DOMAIN + publicKey);
    }

    private String encodedPublicKey() {
        return Base64.getEncoder().encodeToString(publicKey().getEncoded());
    }

    private static AuditCheckpoints create(Datastore datastore, KeyManager keys, Clock clock, long every, Duration interval,
                                           Optional<SecretHasher> endorser) {
        Objects.requireNonNull(datastore, "datastore");
        Objects.requireNonNull(clock, "clock");
        if (every < 1) {
            throw new IllegalArgumentException("audit.checkpoint_every must be at least 1, got " + every);
        }
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("audit.checkpoint_interval must be positive, got " + interval);
        }
        KeyHandle key = keys.find(KEY_ID).orElseGet(() -> keys.generate(KEY_ID, KeyType.EC_P256));
        if (key.type() != KeyType.EC_P256) {
            throw new IllegalStateException("key '" + KEY_ID + "' in " + keys.describe() + " is " + key.type()
                    + "; the audit checkpoint key must be " + KeyType.EC_P256);
        }
        return new AuditCheckpoints(datastore, key, clock, every, interval, endorser);
    }

    long every() {
        return every;
    }

    /** The key that signs checkpoints; verifiers should obtain it out of band (GET /v1/audit/checkpoint-key). */
    public PublicKey publicKey() {
        return key.publicKey();
    }

    /** The checkpoint key as a PEM "PUBLIC KEY" block. */
    public String publicKeyPem() {
        return "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(publicKey().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
    }

    /** Takes a checkpoint when one is due (see the class comment); empty when none was. */
    public Optional<AuditCheckpoint> checkpointIfDue() {
        return datastore.inTransaction(connection -> take(connection, false));
    }

    /** Takes a checkpoint now if anything was appended since the last one. */
    public Optional<AuditCheckpoint> checkpointNow() {
        return datastore.inTransaction(connection -> take(connection, true));
    }

    public List<AuditCheckpoint> list() {
        return datastore.read(AuditCheckpoints::all);
    }

    private Optional<AuditCheckpoint> take(Connection connection, boolean force) throws SQLException {
        // Locking the head serializes checkpointers with each other and with appenders.
        SqlAuditTrail.Head head = SqlAuditTrail.lockHead(connection, datastore.dialect());
        Optional<AuditCheckpoint> last = last(connection);
        long lastSeq = last.map(AuditCheckpoint::seq).orElse(0L);
        if (head.lastSeq() <= lastSeq) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        boolean due = force || head.lastSeq() - lastSeq >= every
                || last.map(c -> !now.isBefore(c.time().plus(interval))).orElse(true);
        if (!due) {
            return Optional.empty();
        }
        long id = last.map(AuditCheckpoint::id).orElse(0L) + 1;
        long time = now.toEpochMilli();
        byte[] signature = key.sign(signedBytes(id, head.lastSeq(), head.lastHash(), time, KEY_ID));
        AuditCheckpoint checkpoint = new AuditCheckpoint(id, head.lastSeq(), head.lastHash(), Instant.ofEpochMilli(time), KEY_ID,
                Base64.getEncoder().encodeToString(publicKey().getEncoded()), Base64.getEncoder().encodeToString(signature));
        try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO audit_checkpoints (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            insert.setLong(1, checkpoint.id());
            insert.setLong(2, checkpoint.seq());
            insert.setString(3, checkpoint.headHash());
            insert.setLong(4, time);
            insert.setString(5, checkpoint.keyId());
            insert.setString(6, checkpoint.publicKey());
            insert.setString(7, checkpoint.signature());
            insert.executeUpdate();
        }
        return Optional.of(checkpoint);
    }

    /**
     * The bytes a checkpoint signs: {@code str("sigil-audit-checkpoint-v1") u64(id) u64(seq) str(head_hash)
     * i64(time in epoch ms) str(key_id)}, with the encodings of {@link AuditChain}.
     */
    static byte[] signedBytes(long id, long seq, String headHash, long timeMillis, String keyId) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(160);
        string(out, DOMAIN);
        out.writeBytes(ByteBuffer.allocate(16).putLong(id).putLong(seq).array());
        string(out, headHash);
        out.writeBytes(ByteBuffer.allocate(8).putLong(timeMillis).array());
        string(out, keyId);
        return out.toByteArray();
    }

    /**
     * Checks every checkpoint against the trusted keys (the key manager's, never the stored copy, and
     * with several servers every key endorsed under the shared hmac key) and against the chain, whose
     * records 1 to {@code chainEnd} the caller has already verified intact.
     * {@code hashAt} reads a record's stored hash. Empty when every checkpoint holds.
     */
    Optional<AuditVerification.Broken> check(Connection connection, long chainEnd, HashLookup hashAt) throws SQLException {
        java.util.Set<String> trusted = trustedKeys(connection);
        long expectedId = 1;
        long previousSeq = 0;
        for (AuditCheckpoint c : all(connection)) {
            if (c.id() != expectedId) {
                return broken(Math.max(1, previousSeq), "checkpoint " + expectedId + " is missing: the checkpoint after "
                        + (expectedId - 1) + " is " + c.id());
            }
            if (!trusted.contains(c.publicKey()) || !validSignature(c)) {
                return broken(Math.max(1, c.seq()), "checkpoint " + c.id() + " (seq " + c.seq() + ") is forged: its signature "
                        + "does not verify with " + (endorser.isPresent() ? "the audit checkpoint key of any server sharing this datastore"
                        : "the server's audit checkpoint key"));
            }
            if (c.seq() < previousSeq) {
                return broken(Math.max(1, c.seq()), "checkpoint " + c.id() + " signs seq " + c.seq() + ", below checkpoint "
                        + (c.id() - 1) + "'s seq " + previousSeq);
            }
            if (c.seq() > chainEnd) {
                return broken(chainEnd + 1, "records after " + chainEnd + " were cut: checkpoint " + c.id() + " signed seq "
                        + c.seq() + " with hash " + c.headHash());
            }
            Optional<String> stored = c.seq() == 0 ? Optional.of(AuditChain.GENESIS) : hashAt.hash(c.seq());
            if (stored.isEmpty() || !stored.get().equals(c.headHash())) {
                return broken(Math.max(1, c.seq()), "the chain was rewritten at or before record " + c.seq() + ": checkpoint "
                        + c.id() + " signed seq " + c.seq() + " with hash " + c.headHash() + " but the record's hash is "
                        + stored.orElse("missing"));
            }
            previousSeq = c.seq();
            expectedId++;
        }
        return Optional.empty();
    }

    @FunctionalInterface
    interface HashLookup {
        Optional<String> hash(long seq) throws SQLException;
    }

    private static Optional<AuditVerification.Broken> broken(long seq, String reason) {
        return Optional.of(new AuditVerification.Broken(seq, reason));
    }

    /** This server's key, and with an endorser every recorded key whose endorsement is valid. */
    private java.util.Set<String> trustedKeys(Connection connection) throws SQLException {
        java.util.Set<String> trusted = new java.util.HashSet<>();
        trusted.add(encodedPublicKey());
        if (endorser.isPresent()) {
            try (PreparedStatement select = connection.prepareStatement("SELECT public_key, endorsement FROM audit_checkpoint_keys");
                 ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    String key = rows.getString(1);
                    if (java.security.MessageDigest.isEqual(endorsement(endorser.get(), key).getBytes(StandardCharsets.US_ASCII),
                            rows.getString(2).getBytes(StandardCharsets.US_ASCII))) {
                        trusted.add(key);
                    }
                }
            }
        }
        return trusted;
    }

    private boolean validSignature(AuditCheckpoint c) {
        try {
            Signature verifier = Signature.getInstance("SHA256withECDSA");
            verifier.initVerify(java.security.KeyFactory.getInstance("EC").generatePublic(
                    new java.security.spec.X509EncodedKeySpec(Base64.getDecoder().decode(c.publicKey()))));
            verifier.update(signedBytes(c.id(), c.seq(), c.headHash(), c.time().toEpochMilli(), c.keyId()));
            return verifier.verify(Base64.getDecoder().decode(c.signature()));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    private static Optional<AuditCheckpoint> last(Connection connection) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT " + COLUMNS + " FROM audit_checkpoints ORDER BY id DESC LIMIT 1")) {
            List<AuditCheckpoint> rows = rows(select);
            return rows.isEmpty() ? Optional.empty() : Optional.of(rows.getFirst());
        }
    }

    private static List<AuditCheckpoint> all(Connection connection) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement("SELECT " + COLUMNS + " FROM audit_checkpoints ORDER BY id")) {
            return rows(select);
        }
    }

    private static List<AuditCheckpoint> rows(PreparedStatement select) throws SQLException {
        List<AuditCheckpoint> rows = new ArrayList<>();
        try (ResultSet row = select.executeQuery()) {
            while (row.next()) {
                rows.add(new AuditCheckpoint(row.getLong(1), row.getLong(2), row.getString(3), Instant.ofEpochMilli(row.getLong(4)),
                        row.getString(5), row.getString(6), row.getString(7)));
            }
        }
        return rows;
    }

    private static void string(ByteArrayOutputStream out, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        out.writeBytes(ByteBuffer.allocate(4).putInt(bytes.length).array());
        out.writeBytes(bytes);
    }
}
