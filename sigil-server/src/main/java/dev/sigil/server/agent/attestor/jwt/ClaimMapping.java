package dev.sigil.server.agent.attestor.jwt;

import dev.sigil.core.Printable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One claim turned into node selectors: the claim at {@code path} gives selectors
 * {@code jwt:<selector>:<value>}, one per value (a string, number or boolean, or a list of them).
 *
 * <p>A path is claim names joined by '.'; because claim names may contain dots themselves
 * ({@code kubernetes.io}), each step takes the longest name present that the remaining path starts
 * with, so {@code kubernetes.io.pod.name} reads {@code claims["kubernetes.io"]["pod"]["name"]}.
 *
 * @param required when true a token without the claim is refused (the message names the path)
 */
record ClaimMapping(String path, String selector, boolean required) {

    /** The claim's values as selector values; empty when absent. Throws {@link ClaimException} for an object or an empty value. */
    Optional<List<String>> values(Map<String, Object> claims) {
        Optional<Object> found = find(claims, path);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        Object value = found.get();
        List<String> values = new ArrayList<>();
        if (value instanceof Collection<?> list) {
            for (Object item : list) {
                values.add(scalar(item));
            }
        } else {
            values.add(scalar(value));
        }
        return values.isEmpty() ? Optional.empty() : Optional.of(values);
    }

    private String scalar(Object value) {
        if (value instanceof String text) {
            if (text.isEmpty()) {
                throw new ClaimException("claim '" + path + "' is empty; it must have a value");
            }
            return text;
        }
        if (value instanceof Number || value instanceof Boolean) {
            return value.toString();
        }
        throw new ClaimException("claim '" + path + "' is " + (value == null ? "null" : "an object or a nested list")
                + "; selectors are made from strings, numbers and booleans (or a list of them)");
    }

    /** The value at a dotted {@code path}, taking the longest matching claim name at each step. */
    static Optional<Object> find(Map<String, Object> claims, String path) {
        Object current = claims;
        String rest = path;
        while (!rest.isEmpty()) {
            if (!(current instanceof Map<?, ?> object)) {
                return Optional.empty();
            }
            String step = null;
            for (Object key : object.keySet()) {
                String name = String.valueOf(key);
                if ((rest.equals(name) || rest.startsWith(name + ".")) && (step == null || name.length() > step.length())) {
                    step = name;
                }
            }
            if (step == null) {
                return Optional.empty();
            }
            current = object.get(step);
            rest = rest.length() == step.length() ? "" : rest.substring(step.length() + 1);
        }
        return Optional.ofNullable(current);
    }

    /** A claim is present but cannot be made into selectors; the message quotes no claim value. */
    static final class ClaimException extends RuntimeException {
        ClaimException(String message) {
            super(Printable.clip(message, 400));
        }
    }
}
