package dev.sigil.server.authority;

import java.util.LinkedHashSet;
import java.util.List;

/**
 * The audience of a JWT-SVID: one to {@value #MAX_VALUES} values of at most {@value #MAX_LENGTH}
 * printable characters without spaces, duplicates removed, order kept. A JWT-SVID without an audience
 * cannot be built, because {@code aud} is required; the bounds keep a client from making the server
 * sign, store and audit arbitrarily large tokens.
 */
public record Audience(List<String> values) {
    public static final int MAX_VALUES = 16;
    public static final int MAX_LENGTH = 512;

    public Audience {
        if (values == null || values.isEmpty()) {
            throw new IllegalArgumentException("audience is empty; a jwt-svid needs at least one audience");
        }
        if (values.size() > MAX_VALUES) {
            throw new IllegalArgumentException("audience has " + values.size() + " values; at most " + MAX_VALUES + " are allowed");
        }
        for (String value : values) {
            if (value == null || value.isBlank()) {
                throw new IllegalArgumentException("audience value is blank; every audience must be non-empty");
            }
            if (value.length() > MAX_LENGTH) {
                throw new IllegalArgumentException("audience value '" + dev.sigil.core.Printable.clip(value, 40) + "' is "
                        + value.length() + " characters long; at most " + MAX_LENGTH + " are allowed");
            }
            if (value.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
                throw new IllegalArgumentException("audience value '" + dev.sigil.core.Printable.clip(value, 40)
                        + "' contains a space or control character");
            }
        }
        values = List.copyOf(new LinkedHashSet<>(values));
    }

    public static Audience of(String first, String... more) {
        List<String> all = new java.util.ArrayList<>();
        all.add(first);
        all.addAll(List.of(more));
        return new Audience(all);
    }
}
