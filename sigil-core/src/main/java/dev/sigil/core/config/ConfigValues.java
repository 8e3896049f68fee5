package dev.sigil.core.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import dev.sigil.core.SigilException;
import java.io.IOException;
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

    /** A scalar value that parsed as YAML but is not valid for its key; the message is meant for the operator. */
    public static final class InvalidValueException extends JsonMappingException {
        InvalidValueException(JsonParser parser, String message) {
            super(parser, message, parser.currentTokenLocation());
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
