package dev.sigil.server.keys;

import java.util.regex.Pattern;

/** Validates key ids; a valid id is also a safe file name (no separators, no leading dot). */
final class KeyIds {
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private KeyIds() {}

    static String validate(String keyId) {
        if (keyId == null || !VALID.matcher(keyId).matches()) {
            throw new IllegalArgumentException("key id '" + keyId + "' is invalid; use 1 to 128 characters of"
                    + " A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit");
        }
        return keyId;
    }
}
