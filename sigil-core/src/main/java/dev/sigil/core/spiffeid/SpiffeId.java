package dev.sigil.core.spiffeid;

import static dev.sigil.core.Printable.clip;

import dev.sigil.core.Printable;

/**
 * A SPIFFE ID ({@code spiffe://trust-domain/path}), validated exactly per the SPIFFE ID
 * specification: scheme {@code spiffe} in lower case; a trust domain of a-z, 0-9, '.', '-', '_';
 * an optional path of '/'-separated segments of a-z, A-Z, 0-9, '.', '-', '_', with no empty, '.' or
 * '..' segment and no trailing '/'; no port, user info, query or fragment; at most 2048 bytes.
 * Instances are always valid; build them with {@link #parse} or {@link #of}. Refusals quote the input
 * through {@link Printable}, so their messages are one bounded line whatever the input.
 */
public record SpiffeId(TrustDomain trustDomain, String path) implements Comparable<SpiffeId> {
    static final String PREFIX = "spiffe://";
    static final int MAX_LENGTH = 2048;

    public SpiffeId {
        if (trustDomain == null) {
            throw new InvalidSpiffeIdException("trust domain is missing");
        }
        validatePath(path == null ? "" : path);
        path = path == null ? "" : path;
        int length = PREFIX.length() + trustDomain.name().length() + path.length();
        if (length > MAX_LENGTH) {
            throw new InvalidSpiffeIdException(
                    "spiffe id is " + length + " bytes long; at most " + MAX_LENGTH + " are allowed");
        }
    }

    public static SpiffeId of(TrustDomain trustDomain, String path) {
        return new SpiffeId(trustDomain, path);
    }

    /** Parses a SPIFFE ID; the exception's message names the offending part. */
    public static SpiffeId parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new InvalidSpiffeIdException("spiffe id is empty");
        }
        if (text.length() > MAX_LENGTH) {
            throw new InvalidSpiffeIdException(
                    "spiffe id is " + text.length() + " bytes long; at most " + MAX_LENGTH + " are allowed");
        }
        if (!text.startsWith(PREFIX)) {
            int colon = text.indexOf(':');
            String scheme = colon > 0 ? text.substring(0, colon) : "";
            throw new InvalidSpiffeIdException("'" + clip(text) + "' is not a spiffe id: the scheme must be 'spiffe://'"
                    + (scheme.isEmpty() ? "" : " (got '" + clip(scheme) + "')"));
        }
        String rest = text.substring(PREFIX.length());
        int slash = rest.indexOf('/');
        String domain = slash < 0 ? rest : rest.substring(0, slash);
        String path = slash < 0 ? "" : rest.substring(slash);
        for (char forbidden : new char[] {'?', '#'}) {
            if (text.indexOf(forbidden) >= 0) {
                throw new InvalidSpiffeIdException("spiffe id '" + clip(text) + "' has a "
                        + (forbidden == '?' ? "query" : "fragment") + "; neither is allowed");
            }
        }
        if (domain.isEmpty()) {
            throw new InvalidSpiffeIdException("spiffe id '" + clip(text) + "' has no trust domain");
        }
        if (domain.indexOf('@') >= 0) {
            throw new InvalidSpiffeIdException("spiffe id '" + clip(text) + "' has user info; it is not allowed");
        }
        if (domain.indexOf(':') >= 0) {
            throw new InvalidSpiffeIdException("spiffe id '" + clip(text) + "' has a port; it is not allowed");
        }
        return new SpiffeId(new TrustDomain(domain), path);
    }

    private static void validatePath(String path) {
        if (path.isEmpty()) {
            return;
        }
        if (path.charAt(0) != '/') {
            throw new InvalidSpiffeIdException("path '" + clip(path) + "' must start with '/'");
        }
        if (path.endsWith("/")) {
            throw new InvalidSpiffeIdException("path '" + clip(path) + "' ends with '/'; trailing slashes are not allowed");
        }
        int start = 1;
        while (start <= path.length()) {
            int end = path.indexOf('/', start);
            if (end < 0) {
                end = path.length();
            }
            String segment = path.substring(start, end);
            if (segment.isEmpty()) {
                throw new InvalidSpiffeIdException("path '" + clip(path) + "' has an empty segment ('//')");
            }
            if (segment.equals(".") || segment.equals("..")) {
                throw new InvalidSpiffeIdException("path '" + clip(path) + "' has a '" + segment + "' segment; dot segments are not allowed");
            }
            for (int i = 0; i < segment.length(); i++) {
                char c = segment.charAt(i);
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) {
                    throw new InvalidSpiffeIdException("path segment '" + clip(segment) + "' has the character " + Printable.character(c)
                            + "; only a-z, A-Z, 0-9, '.', '-' and '_' are allowed");
                }
            }
            start = end + 1;
        }
    }

    /** True when this ID is in the given trust domain. */
    public boolean memberOf(TrustDomain domain) {
        return trustDomain.equals(domain);
    }

    @Override
    public int compareTo(SpiffeId other) {
        return toString().compareTo(other.toString());
    }

    @Override
    public String toString() {
        return PREFIX + trustDomain.name() + path;
    }
}
