package dev.sigil.core.selector;

import static dev.sigil.core.Printable.clip;

import dev.sigil.core.Printable;

import java.nio.charset.StandardCharsets;
import java.util.Comparator;

/**
 * One attested property of a node or workload, written {@code type:value} ({@code unix:uid:1000},
 * {@code k8s:ns:payments}). The type names the attestor that vouches for the value.
 *
 * <p>Invariants, enforced when built: the type is 1 to {@value #MAX_TYPE_LENGTH} characters of
 * a-z, 0-9, '_' and '-'; the value is non-empty, at most {@value #MAX_VALUE_BYTES} bytes in UTF-8,
 * and has no control characters (so the {@code type:value} form of a selector is one line and parses
 * back to the same selector). Selectors order by type, then value. Refusals quote the input through
 * {@link Printable}, so their messages are one bounded line whatever the input.
 */
public record Selector(String type, String value) implements Comparable<Selector> {
    public static final int MAX_TYPE_LENGTH = 64;
    public static final int MAX_VALUE_BYTES = 1024;

    private static final Comparator<Selector> ORDER =
            Comparator.comparing(Selector::type).thenComparing(Selector::value);

    public Selector {
        validateType(type);
        validateValue(type, value);
    }

    public static Selector of(String type, String value) {
        return new Selector(type, value);
    }

    /**
     * Parses {@code type:value}: the type is everything before the first ':', the value everything
     * after it (the value may itself contain ':').
     */
    public static Selector parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new InvalidSelectorException("selector is empty; expected 'type:value', for example 'unix:uid:1000'");
        }
        int colon = text.indexOf(':');
        if (colon < 0) {
            throw new InvalidSelectorException("selector '" + clip(text) + "' has no ':'; expected 'type:value', for example 'unix:uid:1000'");
        }
        if (colon == 0) {
            throw new InvalidSelectorException("selector '" + clip(text) + "' has an empty type; expected 'type:value'");
        }
        if (colon == text.length() - 1) {
            throw new InvalidSelectorException("selector '" + clip(text) + "' has an empty value; expected 'type:value'");
        }
        return new Selector(text.substring(0, colon), text.substring(colon + 1));
    }

    private static void validateType(String type) {
        if (type == null || type.isEmpty()) {
            throw new InvalidSelectorException("selector type is empty; it must be 1 to " + MAX_TYPE_LENGTH
                    + " characters of a-z, 0-9, '_' and '-'");
        }
        if (type.length() > MAX_TYPE_LENGTH) {
            throw new InvalidSelectorException("selector type '" + clip(type) + "' is " + type.length()
                    + " characters long; at most " + MAX_TYPE_LENGTH + " are allowed");
        }
        for (int i = 0; i < type.length(); i++) {
            char c = type.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
                throw new InvalidSelectorException("selector type '" + clip(type) + "' has the character " + Printable.character(c)
                        + "; only a-z, 0-9, '_' and '-' are allowed");
            }
        }
    }

    private static void validateValue(String type, String value) {
        if (value == null || value.isEmpty()) {
            throw new InvalidSelectorException("selector of type '" + type + "' has an empty value");
        }
        for (int i = 0; i < value.length(); i++) {
            if (Character.isISOControl(value.charAt(i))) {
                throw new InvalidSelectorException("selector value for type '" + type + "' has a control character (code "
                        + (int) value.charAt(i) + ") at position " + i + "; control characters are not allowed");
            }
        }
        int bytes = value.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_VALUE_BYTES) {
            throw new InvalidSelectorException("selector value for type '" + type + "' is " + bytes
                    + " bytes long in utf-8; at most " + MAX_VALUE_BYTES + " are allowed");
        }
    }

    @Override
    public int compareTo(Selector other) {
        return ORDER.compare(this, other);
    }

    /** The {@code type:value} form, which {@link #parse} accepts. */
    @Override
    public String toString() {
        return type + ":" + value;
    }
}
