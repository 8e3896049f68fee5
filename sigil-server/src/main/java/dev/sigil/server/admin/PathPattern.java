package dev.sigil.server.admin;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A route path such as {@code /v1/entries/{id}}: literal segments and named parameters, each
 * parameter matching exactly one non-empty segment.
 */
record PathPattern(String text, List<String> segments) {
    PathPattern {
        segments = List.copyOf(segments);
    }

    static PathPattern parse(String text) {
        if (text == null || !text.startsWith("/")) {
            throw new IllegalArgumentException("route pattern '" + text + "' must start with '/'");
        }
        List<String> segments = new ArrayList<>();
        Set<String> names = new HashSet<>();
        if (!text.equals("/")) {
            for (String segment : text.substring(1).split("/", -1)) {
                if (segment.isEmpty()) {
                    throw new IllegalArgumentException("route pattern '" + text + "' has an empty segment");
                }
                if (isParameter(segment)) {
                    String name = segment.substring(1, segment.length() - 1);
                    if (!name.matches("[a-z][a-z0-9_]*")) {
                        throw new IllegalArgumentException("route pattern '" + text + "' has parameter '" + name
                                + "'; names are lower-case letters, digits and '_'");
                    }
                    if (!names.add(name)) {
                        throw new IllegalArgumentException("route pattern '" + text + "' names parameter '" + name + "' twice");
                    }
                } else if (segment.contains("{") || segment.contains("}")) {
                    throw new IllegalArgumentException("route pattern '" + text + "' has a malformed parameter in '" + segment + "'");
                }
                segments.add(segment);
            }
        }
        return new PathPattern(text, segments);
    }

    private static boolean isParameter(String segment) {
        return segment.length() > 2 && segment.startsWith("{") && segment.endsWith("}");
    }

    /** The parameter values when {@code path} matches, in pattern order. */
    Optional<Map<String, String>> match(String path) {
        if (path == null || !path.startsWith("/")) {
            return Optional.empty();
        }
        String[] parts = path.equals("/") ? new String[0] : path.substring(1).split("/", -1);
        if (parts.length != segments.size()) {
            return Optional.empty();
        }
        Map<String, String> parameters = new LinkedHashMap<>();
        for (int i = 0; i < parts.length; i++) {
            String segment = segments.get(i);
            if (parts[i].isEmpty()) {
                return Optional.empty();
            }
            if (isParameter(segment)) {
                parameters.put(segment.substring(1, segment.length() - 1), parts[i]);
            } else if (!segment.equals(parts[i])) {
                return Optional.empty();
            }
        }
        return Optional.of(Map.copyOf(parameters));
    }

    /** Higher for patterns with more (and earlier) literal segments; literal routes win over parameters. */
    int specificity() {
        int score = 0;
        for (String segment : segments) {
            score = score * 2 + (isParameter(segment) ? 0 : 1);
        }
        return score;
    }

    /** The pattern with parameter names erased, to detect two routes that would always collide. */
    String shape() {
        return "/" + String.join("/", segments.stream().map(s -> isParameter(s) ? "{}" : s).toList());
    }
}
