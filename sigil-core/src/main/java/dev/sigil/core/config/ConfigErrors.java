package dev.sigil.core.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * Turns Jackson/YAML exceptions into one-line messages: file, line, key and what is valid. Shared by
 * every configuration file ({@link YamlConfigFile}).
 */
public final class ConfigErrors {
    private ConfigErrors() {
    }

    /** The message for {@code e} while binding {@code file}: "file line L, column C: what was wrong". */
    public static String describe(Path file, JsonProcessingException e) {
        String where = file + at(e.getLocation());
        String message;
        Throwable cause = e.getCause();
        while (cause != null && !(cause instanceof dev.sigil.core.SigilException) && !(cause instanceof dev.sigil.core.plugin.PluginException)) {
            cause = cause.getCause();
        }
        if (cause != null) {
            // a plugin's settings (or a loader's own check) refused a value while the block was bound:
            // its message names the key
            message = cause.getMessage();
        } else if (e instanceof UnrecognizedPropertyException unknown) {
            String parent = parentKey(unknown);
            message = "unknown key '" + unknown.getPropertyName() + "'" + (parent.isEmpty() ? "" : " under '" + parent + "'")
                    + validKeys(unknown.getKnownPropertyIds());
        } else if (e instanceof ConfigValues.InvalidValueException invalid) {
            message = "key '" + key(invalid) + "': " + invalid.getOriginalMessage();
        } else if (e instanceof MismatchedInputException mismatch) {
            String key = key(mismatch);
            message = key.isEmpty() ? "the configuration must be a mapping of keys to values"
                    : "key '" + key + "' must be " + expected(mismatch.getTargetType());
        } else if (e instanceof JsonMappingException mapping) {
            String key = key(mapping);
            message = (key.isEmpty() ? "" : "key '" + key + "': ") + "value is not valid here";
        } else {
            // the parser's problem lines, without its indented echo of the document (which may hold secrets)
            String original = String.valueOf(e.getOriginalMessage()).lines()
                    .filter(line -> !line.isBlank() && !Character.isWhitespace(line.charAt(0)))
                    .collect(java.util.stream.Collectors.joining("; "));
            if (original.startsWith("Duplicate field")) {
                message = "duplicate key " + original.substring("Duplicate field ".length()).replace('\'', '\'');
            } else {
                message = "not valid yaml: " + original;
            }
        }
        return where + ": " + message;
    }

    private static String at(JsonLocation location) {
        if (location == null || location.getLineNr() < 1) {
            return "";
        }
        return " line " + location.getLineNr() + ", column " + location.getColumnNr();
    }

    private static String validKeys(Collection<Object> known) {
        if (known == null || known.isEmpty()) {
            return "";
        }
        TreeSet<String> names = new TreeSet<>();
        known.forEach(name -> names.add(String.valueOf(name)));
        return "; valid keys: " + String.join(", ", names);
    }

    private static String expected(Class<?> type) {
        if (type == null) {
            return "another kind of value";
        }
        if (type == Integer.class || type == int.class || type == Long.class) {
            return "a whole number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a single value";
        }
        if (type.isRecord()) {
            return "a mapping of keys to values";
        }
        return "another kind of value";
    }

    private static String key(JsonMappingException e) {
        return render(e.getPath());
    }

    private static String parentKey(JsonMappingException e) {
        List<JsonMappingException.Reference> path = e.getPath();
        return path.isEmpty() ? "" : render(path.subList(0, path.size() - 1));
    }

    private static String render(List<JsonMappingException.Reference> path) {
        StringBuilder out = new StringBuilder();
        for (JsonMappingException.Reference reference : path) {
            if (reference.getFieldName() != null) {
                out.append(out.isEmpty() ? "" : ".").append(reference.getFieldName());
            } else if (reference.getIndex() >= 0) {
                out.append('[').append(reference.getIndex()).append(']');
            }
        }
        return out.toString();
    }
}
