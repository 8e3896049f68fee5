package dev.sigil.server.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Writes complete JSON responses with an exact Content-Length. Error bodies always have the shape
 * {@code {"error":{"code":"not_found","message":"..."}}}; the message is meant for the caller and
 * must never contain a stack trace, a secret or an internal class name.
 */
public final class JsonResponses {
    public static final String JSON = "application/json";

    private JsonResponses() {
    }

    /** Sends {@code json} (already serialized) with the given status. */
    public static void send(Response response, Callback callback, int status, String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, JSON);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }

    /** Sends an error body for {@code code} with {@code message}. */
    public static void sendError(Response response, Callback callback, ErrorCode code, String message) {
        send(response, callback, code.httpStatus(), errorJson(code, message));
    }

    /** The JSON error body, built without a JSON library so it works from any error path. */
    public static String errorJson(ErrorCode code, String message) {
        return "{\"error\":{\"code\":\"" + code.wireName() + "\",\"message\":" + quote(message) + "}}";
    }

    /** A JSON string literal for {@code text}, escaping quotes, backslashes and control characters. */
    public static String quote(String text) {
        String s = text == null ? "" : text;
        StringBuilder out = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
