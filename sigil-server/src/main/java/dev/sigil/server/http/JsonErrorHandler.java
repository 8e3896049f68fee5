package dev.sigil.server.http;

import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's last-resort error page, replaced so that errors Jetty raises on its own (malformed request
 * line, header too large, idle timeout...) are answered in the same JSON shape as every other error,
 * with Jetty's short reason phrase and never an exception message or stack trace.
 */
public final class JsonErrorHandler extends ErrorHandler {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        int status = response.getStatus();
        if (status < 400) {
            status = 500;
        }
        ErrorCode code = ErrorCode.forStatus(status);
        String reason = HttpStatus.getMessage(status);
        String message = reason == null ? "request failed" : reason.toLowerCase(java.util.Locale.ROOT);
        JsonResponses.send(response, callback, status, JsonResponses.errorJson(code, message));
        return true;
    }
}
