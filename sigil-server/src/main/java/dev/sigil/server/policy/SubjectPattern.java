package dev.sigil.server.policy;

import java.util.List;

/**
 * Which SPIFFE IDs a rule applies to. Three forms:
 * <ul>
 *   <li>exact: {@code spiffe://td/web} matches only that ID;</li>
 *   <li>prefix: {@code spiffe://td/dev/*} matches every ID below {@code spiffe://td/dev/}, at any depth
 *       (not {@code spiffe://td/dev} itself);</li>
 *   <li>glob: {@code *} standing for exactly one whole path segment, e.g. {@code spiffe://td/*}{@code /api}
 *       (a trailing {@code /*} keeps its prefix meaning). {@code *} inside a segment ({@code we*b}) and in
 *       the trust domain is refused.</li>
 * </ul>
 */
sealed interface SubjectPattern {
    String text();

    boolean matches(String spiffeId);

    record Exact(String text) implements SubjectPattern {
        @Override
        public boolean matches(String spiffeId) {
            return text.equals(spiffeId);
        }
    }

    /** {@code base} ends with "/" ({@code spiffe://td/dev/}). */
    record Prefix(String text, String base) implements SubjectPattern {
        @Override
        public boolean matches(String spiffeId) {
            return spiffeId.length() > base.length() && spiffeId.startsWith(base);
        }
    }

    /** Segments after the trust domain; {@code null} stands for any one segment. */
    record Glob(String text, String trustDomainPrefix, List<String> segments, boolean openEnded) implements SubjectPattern {
        @Override
        public boolean matches(String spiffeId) {
            if (!spiffeId.startsWith(trustDomainPrefix)) {
                return false;
            }
            String[] parts = spiffeId.substring(trustDomainPrefix.length()).split("/", -1);
            if (openEnded ? parts.length <= segments.size() : parts.length != segments.size()) {
                return false;
            }
            for (int i = 0; i < segments.size(); i++) {
                String want = segments.get(i);
                if (parts[i].isEmpty() || (want != null && !want.equals(parts[i]))) {
                    return false;
                }
            }
            return true;
        }
    }

    static SubjectPattern parse(String text) {
        if (!text.startsWith("spiffe://")) {
            throw new IllegalArgumentException("subject pattern '" + text
                    + "' must start with spiffe:// (exact ID, prefix ending in /*, or * per segment)");
        }
        int slash = text.indexOf('/', "spiffe://".length());
        String trustDomain = slash < 0 ? text.substring(9) : text.substring(9, slash);
        if (trustDomain.isEmpty() || trustDomain.contains("*")) {
            throw new IllegalArgumentException("subject pattern '" + text
                    + "' must name one trust domain without wildcards");
        }
        if (!text.contains("*")) {
            try {
                dev.sigil.core.spiffeid.SpiffeId.parse(text);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("subject '" + text + "' is not a valid spiffe id: " + e.getMessage());
            }
            return new Exact(text);
        }
        String tdPrefix = text.substring(0, slash + 1);
        String[] raw = text.substring(slash + 1).split("/", -1);
        boolean openEnded = raw[raw.length - 1].equals("*");
        int fixed = openEnded ? raw.length - 1 : raw.length;
        java.util.ArrayList<String> segments = new java.util.ArrayList<>();
        boolean anyWildcard = false;
        for (int i = 0; i < fixed; i++) {
            String segment = raw[i];
            if (segment.isEmpty()) {
                throw new IllegalArgumentException("subject pattern '" + text + "' has an empty path segment");
            }
            if (segment.equals("*")) {
                anyWildcard = true;
                segments.add(null);
            } else if (segment.contains("*")) {
                throw new IllegalArgumentException("subject pattern '" + text + "' has '*' inside segment '" + segment
                        + "'; '*' may only stand for a whole segment");
            } else {
                segments.add(segment);
            }
        }
        if (openEnded && !anyWildcard) {
            return new Prefix(text, text.substring(0, text.length() - 1));
        }
        return new Glob(text, tdPrefix, java.util.Collections.unmodifiableList(segments), openEnded);
    }
}
