package dev.sigil.server.policy;

/**
 * Which resources (audiences) or actions a rule applies to: an exact string, {@code *} for any, or a
 * prefix ending in {@code *} ({@code https://api.example/*}). {@code *} anywhere else is refused.
 */
record ValuePattern(String text) {
    ValuePattern {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("pattern is empty; use an exact value, '*', or a prefix ending in '*'");
        }
        int star = text.indexOf('*');
        if (star >= 0 && star != text.length() - 1) {
            throw new IllegalArgumentException("pattern '" + text
                    + "' has '*' before its end; only a trailing '*' (prefix) is allowed");
        }
    }

    boolean matches(String value) {
        return text.endsWith("*") ? value.startsWith(text.substring(0, text.length() - 1)) : text.equals(value);
    }
}
