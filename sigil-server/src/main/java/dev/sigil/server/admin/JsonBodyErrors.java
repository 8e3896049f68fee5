package dev.sigil.server.admin;

import com.fasterxml.jackson.core.JsonLocation;
import dev.sigil.core.SigilException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns Jackson's exceptions about a request body into messages for the caller: where the problem is
 * (line and column, or the field path) and what was expected, without Java class names.
 */
final class JsonBodyErrors {
    private static final Pattern MISSING = Pattern.compile("(?:Null value for|Missing) creator property '([^']+)'");
    private JsonBodyErrors() {
    }

    /** What was wrong with the body, as one clipped line (it may quote what the client sent). */
    static String describe(JsonProcessingException e) {
        return dev.sigil.core.Printable.clip(explain(e), 400);
    }

    private static String explain(JsonProcessingException e) {
        if (e instanceof UnrecognizedPropertyException unknown) {
            String where = parentPath(unknown);
            return "unknown field '" + unknown.getPropertyName() + "'" + (where.isEmpty() ? "" : " in '" + where + "'")
                    + validFields(unknown.getKnownPropertyIds());
        }
        if (e instanceof ApiJson.InvalidValueException invalid) {
            return "field '" + path(invalid) + "' is invalid: " + invalid.getOriginalMessage();
        }
        if (e instanceof ValueInstantiationException instantiation) {
            Throwable cause = instantiation.getCause();
            boolean meantForCaller = cause instanceof IllegalArgumentException || cause instanceof SigilException;
            String reason = meantForCaller && cause.getMessage() != null ? cause.getMessage() : "a required value is missing or invalid";
            String where = path(instantiation);
            return (where.isEmpty() ? "" : "field '" + where + "' is invalid: ") + reason;
        }
        if (e instanceof MismatchedInputException mismatch) {
            Matcher missing = MISSING.matcher(String.valueOf(mismatch.getOriginalMessage()));
            if (missing.find()) {
                String where = path(mismatch);
                String name = missing.group(1);
                String field = where.equals(name) || where.endsWith("." + name) ? where
                        : (where.isEmpty() ? "" : where + ".") + name;
                return "field '" + field + "' is required";
            }
            String where = path(mismatch);
            String expected = expected(mismatch.getTargetType());
            if (where.isEmpty()) {
                return "request body must be " + expected;
            }
            return "field '" + where + "' must be " + expected;
        }
        if (e instanceof StreamReadException) {
            JsonLocation location = e.getLocation();
            String original = e.getOriginalMessage() == null ? "" : e.getOriginalMessage().lines().findFirst().orElse("");
            return "request body is not valid json" + at(location) + ": " + lowerFirst(original);
        }
        if (e instanceof JsonMappingException mapping && !path(mapping).isEmpty()) {
            return "field '" + path(mapping) + "' does not have the expected shape";
        }
        return "request body does not have the expected shape";
    }

    private static String at(JsonLocation location) {
        if (location == null || location.getLineNr() < 1) {
            return "";
        }
        return " at line " + location.getLineNr() + ", column " + location.getColumnNr();
    }

    private static String validFields(Collection<Object> known) {
        if (known == null || known.isEmpty()) {
            return "";
        }
        TreeSet<String> names = new TreeSet<>();
        known.forEach(name -> names.add(String.valueOf(name)));
        return "; valid fields: " + String.join(", ", names);
    }

    private static String expected(Class<?> type) {
        if (type == null) {
            return "a json value of another type";
        }
        if (type == String.class || type.isEnum() || CharSequence.class.isAssignableFrom(type)) {
            return "a string";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true or false";
        }
        if (type.isPrimitive() || Number.class.isAssignableFrom(type)) {
            return "a number";
        }
        if (type.isArray() || Collection.class.isAssignableFrom(type)) {
            return "an array";
        }
        if (Map.class.isAssignableFrom(type) || type.isRecord() || !type.getName().startsWith("java.")) {
            return "a json object";
        }
        return "a json value of another type";
    }

    static String path(JsonMappingException e) {
        return render(e.getPath());
    }

    private static String parentPath(JsonMappingException e) {
        List<JsonMappingException.Reference> path = e.getPath();
        return path.isEmpty() ? "" : render(path.subList(0, path.size() - 1));
    }

    private static String render(List<JsonMappingException.Reference> references) {
        StringBuilder out = new StringBuilder();
        for (JsonMappingException.Reference reference : references) {
            if (reference.getFieldName() != null) {
                if (!out.isEmpty()) {
                    out.append('.');
                }
                out.append(reference.getFieldName());
            } else if (reference.getIndex() >= 0) {
                out.append('[').append(reference.getIndex()).append(']');
            }
        }
        return out.toString();
    }

    private static String lowerFirst(String text) {
        if (text.isEmpty() || !Character.isUpperCase(text.charAt(0))) {
            return text;
        }
        return Character.toLowerCase(text.charAt(0)) + text.substring(1);
    }
}
