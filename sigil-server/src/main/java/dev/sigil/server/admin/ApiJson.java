package dev.sigil.server.admin;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.sigil.core.spiffeid.InvalidSpiffeIdException;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import java.io.IOException;
import java.util.function.Function;

/**
 * The JSON conventions of the admin API, shared by the server and the CLI: snake_case field names
 * (a record component {@code parentId} is {@code parent_id} on the wire), instants as RFC 3339
 * strings, empty optionals and nulls omitted, unknown request fields rejected, SPIFFE IDs and trust
 * domains as plain strings.
 */
public final class ApiJson {
    private static final ObjectMapper SHARED = build();

    private ApiJson() {
    }

    /** A new mapper with the API's conventions; callers may configure their copy further. */
    public static ObjectMapper newMapper() {
        return SHARED.copy();
    }

    static ObjectMapper shared() {
        return SHARED;
    }

    private static ObjectMapper build() {
        SimpleModule sigil = new SimpleModule("sigil-api");
        sigil.addSerializer(SpiffeId.class, new ToStringSerializer<>(SpiffeId.class));
        sigil.addSerializer(TrustDomain.class, new ToStringSerializer<>(TrustDomain.class));
        sigil.addDeserializer(SpiffeId.class, new ParsingDeserializer<>(SpiffeId::parse));
        sigil.addDeserializer(TrustDomain.class, new ParsingDeserializer<>(TrustDomain::parse));
        return JsonMapper.builder()
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .addModule(new JavaTimeModule())
                .addModule(new Jdk8Module())
                .addModule(sigil)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                // {"admin": false, "admin": true} must not mean whichever a parser keeps: refuse it
                .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .defaultPropertyInclusion(JsonInclude.Value.construct(JsonInclude.Include.NON_ABSENT, JsonInclude.Include.USE_DEFAULTS))
                .build();
    }

    /** A JSON value that parsed but is not valid for its field; the message is meant for the caller. */
    static final class InvalidValueException extends JsonMappingException {
        InvalidValueException(JsonParser parser, String message) {
            super(parser, message, parser.currentTokenLocation());
        }
    }

    private static final class ToStringSerializer<T> extends JsonSerializer<T> {
        private final Class<T> type;

        ToStringSerializer(Class<T> type) {
            this.type = type;
        }

        @Override
        public Class<T> handledType() {
            return type;
        }

        @Override
        public void serialize(T value, JsonGenerator generator, SerializerProvider provider) throws IOException {
            generator.writeString(value.toString());
        }
    }

    private static final class ParsingDeserializer<T> extends JsonDeserializer<T> {
        private final Function<String, T> parse;

        ParsingDeserializer(Function<String, T> parse) {
            this.parse = parse;
        }

        @Override
        public T deserialize(JsonParser parser, DeserializationContext context) throws IOException {
            if (parser.currentToken() != JsonToken.VALUE_STRING) {
                throw new InvalidValueException(parser, "expected a string");
            }
            try {
                return parse.apply(parser.getText());
            } catch (InvalidSpiffeIdException | IllegalArgumentException e) {
                throw new InvalidValueException(parser, e.getMessage());
            }
        }
    }
}
