package dev.sigil.core.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import dev.sigil.core.SigilException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Scalar configuration values parsed by our own {@code parse} functions (durations, trust domains,
 * paths, addresses): a mapping or list where a single value belongs, or a value the parser refuses,
 * becomes an {@link InvalidValueException} carrying the parser's location and the parser's message,
 * which the loaders turn into one line naming the key. Shared by the server's and agent's loaders.
 */
public final class ConfigValues {
    private ConfigValues() {
    }

    /** A deserializer that reads one scalar and hands its text to {@code parse}. */
    public static <T> JsonDeserializer<T> scalar(Function<String, T> parse) {
        return new Scalar<>(parse);
    }

    /**
     * A deserializer for a key that takes one scalar or a list of scalars: each scalar's text goes to
     * {@code parseOne} (a refusal is reported at that entry's line), then the entries, in order, go to
     * {@code combine}, which checks the whole (a refusal is reported at the key's value). A single scalar
     * is a list of one. Mappings, nested lists and null entries are refused.
     */
    public static <E, T> JsonDeserializer<T> scalarOrList(Function<String, E> parseOne, Function<List<E>, T> combine) {
        return new ScalarOrList<>(parseOne, combine);
    }

    /** A scalar value that parsed as YAML but is not valid for its key; the message is meant for the operator. */
    public static final class InvalidValueException extends JsonMappingException {
        InvalidValueException(JsonParser parser, String message) {
            super(parser, message, parser.currentTokenLocation());
        }

        InvalidValueException(JsonParser parser, String message, JsonLocation location) {
            super(parser, message, location);
        }
    }

    private static final class ScalarOrList<E, T> extends JsonDeserializer<T> {
        private final Function<String, E> parseOne;
        private final Function<List<E>, T> combine;

        ScalarOrList(Function<String, E> parseOne, Function<List<E>, T> combine) {
            this.parseOne = parseOne;
            this.combine = combine;
        }

        @Override
        public T deserialize(JsonParser parser, DeserializationContext context) throws IOException {
            JsonLocation start = parser.currentTokenLocation();
            List<E> entries = new ArrayList<>();
            JsonToken token = parser.currentToken();
            if (token == JsonToken.START_OBJECT) {
                throw new InvalidValueException(parser, "expected a single value or a list, not a mapping");
            }
            if (token == JsonToken.START_ARRAY) {
                while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
                    if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
                        throw new InvalidValueException(parser, "expected a single value in the list, not a "
                                + (token == JsonToken.START_OBJECT ? "mapping" : "list"));
                    }
                    if (token == JsonToken.VALUE_NULL) {
                        throw new InvalidValueException(parser, "the list has an empty entry");
                    }
                    entries.add(one(parser));
                }
            } else {
                entries.add(one(parser));
            }
            try {
                return combine.apply(entries);
            } catch (IllegalArgumentException | SigilException e) {
                throw new InvalidValueException(parser, e.getMessage(), start);
            }
        }

        private E one(JsonParser parser) throws IOException {
            try {
                return parseOne.apply(parser.getText());
            } catch (IllegalArgumentException | SigilException e) {
                throw new InvalidValueException(parser, e.getMessage());
            }
        }

        @Override
        public T getNullValue(DeserializationContext context) {
            return null;
        }
    }

    private static final class Scalar<T> extends JsonDeserializer<T> {
        private final Function<String, T> parse;

        Scalar(Function<String, T> parse) {
            this.parse = parse;
        }

        @Override
        public T deserialize(JsonParser parser, DeserializationContext context) throws IOException {
            JsonToken token = parser.currentToken();
            if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
                throw new InvalidValueException(parser, "expected a single value, not a " + (token == JsonToken.START_OBJECT ? "mapping" : "list"));
            }
            try {
                return parse.apply(parser.getText());
            } catch (IllegalArgumentException | SigilException e) {
                throw new InvalidValueException(parser, e.getMessage());
            }
        }
    }
}
