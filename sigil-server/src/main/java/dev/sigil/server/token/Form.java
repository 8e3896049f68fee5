package dev.sigil.server.token;

import static dev.sigil.core.Printable.clip;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An {@code application/x-www-form-urlencoded} body. Parameters other than the repeatable ones appear at
 * most once (RFC 6749 section 3.2). Refusals quote the body through {@link dev.sigil.core.Printable}.
 */
record Form(Map<String, List<String>> values) {
    private static final Set<String> REPEATABLE = Set.of("audience", "resource");
    static final int MAX_PARAMETERS = 32;

    static Form parse(String body) {
        Map<String, List<String>> values = new LinkedHashMap<>();
        if (body.isEmpty()) {
            return new Form(values);
        }
        String[] pairs = body.split("&", -1);
        if (pairs.length > MAX_PARAMETERS) {
            throw OAuthException.invalidRequest("the request has " + pairs.length + " parameters; at most " + MAX_PARAMETERS + " are accepted");
        }
        for (String pair : pairs) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            List<String> list = values.computeIfAbsent(name, n -> new ArrayList<>());
            if (!list.isEmpty() && !REPEATABLE.contains(name)) {
                throw OAuthException.invalidRequest("parameter '" + clip(name) + "' appears more than once");
            }
            list.add(value);
        }
        return new Form(values);
    }

    private static String decode(String text) {
        try {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            // URLDecoder's message repeats the input raw: describe the problem instead
            throw OAuthException.invalidRequest("the form body is not valid application/x-www-form-urlencoded: '" + clip(text)
                    + "' has a '%' that is not followed by two hex digits");
        }
    }

    /** The parameter's value; an empty value counts as absent (RFC 6749 section 3.1). */
    Optional<String> get(String name) {
        List<String> list = values.get(name);
        return list == null || list.isEmpty() || list.get(0).isEmpty() ? Optional.empty() : Optional.of(list.get(0));
    }

    List<String> all(String name) {
        return values.getOrDefault(name, List.of()).stream().filter(v -> !v.isEmpty()).toList();
    }
}
