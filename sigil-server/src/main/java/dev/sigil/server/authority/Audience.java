package dev.sigil.server.authority;

import java.util.LinkedHashSet;
import java.util.List;

/**
 * The audience of a JWT-SVID: one or more non-blank values, duplicates removed, order kept. A
 * JWT-SVID without an audience cannot be built, because {@code aud} is required.
 */
public record Audience(List<String> values) {
    public Audience {
        if (values == null || values.isEmpty()) {
            throw new IllegalArgumentException("audience is empty; a jwt-svid needs at least one audience");
        }
        for (String value : values) {
            if (value == null || value.isBlank()) {
                throw new IllegalArgumentException("audience value '" + value + "' is blank; every audience must be non-empty");
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
