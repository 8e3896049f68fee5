package dev.sigil.server.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.sigil.server.http.ErrorCode;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One admin API call as a route handler sees it: method, path parameters, query parameters, the
 * authenticated {@link Actor} and the JSON body (already size-limited and checked to be
 * {@code application/json}). Parsing failures surface as {@link ApiException}s with code
 * {@code invalid_argument} and a message naming the problem.
 */
public final class AdminRequest {
    private final String method;
    private final String path;
    private final Map<String, String> pathParameters;
    private final Map<String, List<String>> query;
    private final byte[] body;
    private final Actor actor;

    AdminRequest(String method, String path, Map<String, String> pathParameters, Map<String, List<String>> query,
                 byte[] body, Actor actor) {
        this.method = method;
        this.path = path;
        this.pathParameters = Map.copyOf(pathParameters);
        this.query = Map.copyOf(query);
        this.body = body;
        this.actor = Objects.requireNonNull(actor, "actor");
    }

    public String method() {
        return method;
    }

    public String path() {
        return path;
    }

    /** Who is calling, for authorization decisions and audit records. */
    public Actor actor() {
        return actor;
    }

    /** A parameter of the route pattern, e.g. {@code id} for {@code /v1/entries/{id}}. */
    public String pathParameter(String name) {
        String value = pathParameters.get(name);
        if (value == null) {
            throw new IllegalArgumentException("the route for " + path + " has no path parameter '" + name + "'");
        }
        return value;
    }

    /** The first value of a query parameter; empty when absent. */
    public Optional<String> query(String name) {
        List<String> values = query.getOrDefault(name, List.of());
        return values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
    }

    /** Every value of a repeatable query parameter ({@code ?selector=a&selector=b}), in order. */
    public List<String> queryAll(String name) {
        return query.getOrDefault(name, List.of());
    }

    /** An integer query parameter; a value that is not an integer in [min, max] is an invalid_argument error. */
    public Optional<Integer> queryInt(String name, int min, int max) {
        Optional<String> text = query(name);
        if (text.isEmpty()) {
            return Optional.empty();
        }
        try {
            int value = Integer.parseInt(text.get());
            if (value >= min && value <= max) {
                return Optional.of(value);
            }
        } catch (NumberFormatException e) {
            // fall through to the error below
        }
        throw ApiException.invalidArgument("query parameter '" + name + "' is '" + text.get()
                + "'; expected an integer from " + min + " to " + max);
    }

    public boolean hasBody() {
        return body.length > 0;
    }

    /** The body parsed as {@code type}; an empty or malformed body is an invalid_argument error. */
    public <T> T body(Class<T> type) {
        if (body.length == 0) {
            throw new ApiException(ErrorCode.INVALID_ARGUMENT, "request body is empty; expected a json object");
        }
        try {
            return ApiJson.shared().readValue(body, type);
        } catch (JsonProcessingException e) {
            throw new ApiException(ErrorCode.INVALID_ARGUMENT, JsonBodyErrors.describe(e), e);
        } catch (IOException e) {
            throw new ApiException(ErrorCode.INVALID_ARGUMENT, "request body cannot be read", e);
        }
    }

    @Override
    public String toString() {
        return "AdminRequest[" + method + " " + path + " by " + actor.describe() + ", body=" + body.length + " bytes]";
    }
}
