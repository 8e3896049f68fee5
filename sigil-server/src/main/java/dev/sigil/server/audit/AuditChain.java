package dev.sigil.server.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * The chain's hash function. A record's hash is SHA-256 over this unambiguous encoding:
 *
 * <pre>
 *   str("sigil-audit-v1") u64(seq) i64(time in epoch ms) str(actor) str(action) str(subject)
 *   str(outcome) str(details) str(prev_hash)
 * </pre>
 *
 * where {@code u64}/{@code i64} are 8 bytes big-endian and {@code str(s)} is the 4-byte big-endian
 * length of s in UTF-8 followed by those bytes. Length prefixes make the encoding injective: no two
 * different records encode to the same bytes, whatever their fields contain.
 */
final class AuditChain {
    static final String GENESIS = "0".repeat(64);
    private static final String DOMAIN = "sigil-audit-v1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private AuditChain() {}

    static String hash(long seq, long timeMillis, String actor, String action, String subject, String outcome,
            String details, String prevHash) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        string(out, DOMAIN);
        out.writeBytes(ByteBuffer.allocate(16).putLong(seq).putLong(timeMillis).array());
        string(out, actor);
        string(out, action);
        string(out, subject);
        string(out, outcome);
        string(out, details);
        string(out, prevHash);
        return HexFormat.of().formatHex(sha256().digest(out.toByteArray()));
    }

    /** Details as JSON with keys in sorted order (the event keeps them sorted), so equal details encode equally. */
    static String detailsJson(Map<String, String> details) {
        try {
            return JSON.writeValueAsString(details);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("string map did not serialize to json", e);
        }
    }

    private static void string(ByteArrayOutputStream out, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        out.writeBytes(ByteBuffer.allocate(4).putInt(bytes.length).array());
        out.writeBytes(bytes);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every java runtime has SHA-256", e);
        }
    }
}
