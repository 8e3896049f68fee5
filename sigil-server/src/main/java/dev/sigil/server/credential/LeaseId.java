package dev.sigil.server.credential;

import java.security.SecureRandom;
import java.util.regex.Pattern;

/**
 * A lease's identifier: {@value #LENGTH} characters of lower-case base32 ({@code a-z}, {@code 2-7}),
 * 120 random bits. Short enough to fit, with a holder hint, in a PostgreSQL role name (63 bytes) and
 * an SSH certificate key id; safe to embed in SQL identifiers, file names and URLs without quoting.
 * Not a secret: it is shown to operators and written to the audit trail.
 */
public record LeaseId(String value) implements Comparable<LeaseId> {
    public static final int LENGTH = 24;
    private static final Pattern FORMAT = Pattern.compile("[a-z2-7]{" + LENGTH + "}");
    private static final char[] ALPHABET = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();
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

    /**
     * A fresh id: 15 bytes from one {@link SecureRandom} call, 5 bits a character. (Drawing each character
     * with its own {@code nextInt} cost 24 calls into the JDK's synchronized native generator per id.)
     */
    public static LeaseId random() {
        byte[] bytes = new byte[LENGTH * 5 / 8];
        RANDOM.nextBytes(bytes);
        char[] chars = new char[LENGTH];
        int buffer = 0;
        int bits = 0;
        int next = 0;
        for (byte b : bytes) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5) {
                bits -= 5;
                chars[next++] = ALPHABET[(buffer >>> bits) & 31];
            }
        }
        return new LeaseId(new String(chars));
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
