package dev.sigil.server.credential;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.regex.Pattern;

/**
 * A lease's identifier: {@value #LENGTH} characters of lower-case base32 ({@code a-z}, {@code 2-7}).
 * Short enough to fit, with a holder hint, in a PostgreSQL role name (63 bytes) and an SSH certificate
 * key id; safe to embed in SQL identifiers, file names and URLs without quoting. Not a secret: it is
 * shown to operators and written to the audit trail. Two shapes, one format:
 * <ul>
 *   <li>{@link #random()}: 120 random bits, for the leases operators name by a short prefix
 *       (database accounts, SSH certificates);</li>
 *   <li>{@link #timeOrdered(Instant)}: the issue time's milliseconds in the first {@value #TIME_CHARS}
 *       characters, in an alphabet ordered as ASCII sorts, then 75 random bits. For the leases issued at
 *       request rate whose id is also a token's {@code jti}: ids issued close in time sort next to each
 *       other, so each insert lands in the same few pages of the primary-key index instead of one at a
 *       random place (a page written to the WAL and again by the checkpoint, per index and lease). Unique
 *       because 2<sup>75</sup> draws a millisecond do not collide; the time tells nothing the token's
 *       {@code iat} does not, to within a second.</li>
 * </ul>
 */
public record LeaseId(String value) implements Comparable<LeaseId> {
    public static final int LENGTH = 24;
    private static final Pattern FORMAT = Pattern.compile("[a-z2-7]{" + LENGTH + "}");
    private static final char[] ALPHABET = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();
    /** How many leading characters of a {@link #timeOrdered} id hold its issue time: 45 bits of milliseconds. */
    public static final int TIME_CHARS = 9;
    private static final char[] ASCII_ORDERED = "234567abcdefghijklmnopqrstuvwxyz".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    public LeaseId {
        if (value == null || !FORMAT.matcher(value).matches()) {
            throw new IllegalArgumentException("lease id '" + value + "' is malformed; expected " + LENGTH
                    + " characters of a-z and 2-7");
        }
    }

    public static LeaseId parse(String text) {
        return new LeaseId(text);
    }

    /** A fresh id of 120 random bits. */
    public static LeaseId random() {
        char[] chars = new char[LENGTH];
        fillRandom(chars, 0);
        return new LeaseId(new String(chars));
    }

    /** A fresh id that sorts after every id {@code timeOrdered} gave for an earlier millisecond. */
    public static LeaseId timeOrdered(Instant issuedAt) {
        long millis = issuedAt.toEpochMilli();
        if (millis < 0 || millis >>> (5 * TIME_CHARS) != 0) {
            throw new IllegalArgumentException("lease issue time " + issuedAt + " is outside 1970 to 3084");
        }
        char[] chars = new char[LENGTH];
        for (int i = TIME_CHARS - 1; i >= 0; i--, millis >>>= 5) {
            chars[i] = ASCII_ORDERED[(int) (millis & 31)];
        }
        fillRandom(chars, TIME_CHARS);
        return new LeaseId(new String(chars));
    }

    /**
     * Fills {@code chars} from {@code from} with random characters, 5 bits each, from one {@link SecureRandom}
     * call. (Drawing each character with its own {@code nextInt} cost 24 calls into the JDK's synchronized
     * native generator per id.)
     */
    private static void fillRandom(char[] chars, int from) {
        byte[] bytes = new byte[((chars.length - from) * 5 + 7) / 8];
        RANDOM.nextBytes(bytes);
        int buffer = 0;
        int bits = 0;
        int next = from;
        for (byte b : bytes) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5 && next < chars.length) {
                bits -= 5;
                chars[next++] = ALPHABET[(buffer >>> bits) & 31];
            }
        }
    }

    @Override
    public int compareTo(LeaseId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
