package dev.sigil.core.spiffeid;

import dev.sigil.core.Printable;

/**
 * A SPIFFE trust domain name, validated per the SPIFFE ID specification section 2.1: lower-case
 * letters, digits, '.', '-' and '_' only, at most 255 characters.
 */
public record TrustDomain(String name) {
    static final int MAX_LENGTH = 255;

    public TrustDomain {
        validate(name);
    }

    /** Parses a bare trust domain name ({@code example.org}) or a SPIFFE ID and takes its trust domain. */
    public static TrustDomain parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new InvalidSpiffeIdException("trust domain is empty");
        }
        if (text.contains("://")) {
            return SpiffeId.parse(text).trustDomain();
        }
        return new TrustDomain(text);
    }

    static void validate(String name) {
        if (name == null || name.isEmpty()) {
            throw new InvalidSpiffeIdException("trust domain is empty");
        }
        if (name.length() > MAX_LENGTH) {
            throw new InvalidSpiffeIdException(
                    "trust domain is " + name.length() + " characters long; at most " + MAX_LENGTH + " are allowed");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) {
                throw new InvalidSpiffeIdException("trust domain '" + Printable.clip(name) + "' has the character "
                        + Printable.character(c) + " at position " + i + "; only a-z, 0-9, '.', '-' and '_' are allowed (no port, user info or upper case)");
            }
        }
    }

    /** The trust domain's own SPIFFE ID, {@code spiffe://<name>}. */
    public String idString() {
        return "spiffe://" + name;
    }

    /** A SPIFFE ID in this trust domain; {@code path} must start with '/'. */
    public SpiffeId id(String path) {
        return SpiffeId.of(this, path);
    }

    @Override
    public String toString() {
        return name;
    }
}
