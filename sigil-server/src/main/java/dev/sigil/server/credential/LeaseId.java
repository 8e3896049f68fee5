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

    public static LeaseId random() {
        char[] chars = new char[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            chars[i] = ALPHABET[RANDOM.nextInt(ALPHABET.length)];
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
