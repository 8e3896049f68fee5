package dev.sigil.server.http;

import java.util.Locale;

/**
 * The closed, stable set of error codes Sigil's HTTP APIs answer with, each fixed to one HTTP status.
 * The wire form ({@link #wireName()}) is part of the public API: clients branch on it, so a code is
 * never renamed or re-purposed.
 */
public enum ErrorCode {
    INVALID_ARGUMENT(400),
    UNAUTHENTICATED(401),
    PERMISSION_DENIED(403),
    NOT_FOUND(404),
    METHOD_NOT_ALLOWED(405),
    ALREADY_EXISTS(409),
    REVISION_CONFLICT(409),
    PAYLOAD_TOO_LARGE(413),
    UNSUPPORTED_MEDIA_TYPE(415),
    INTERNAL(500),
    UNAVAILABLE(503);

    private final int httpStatus;

    ErrorCode(int httpStatus) {
        this.httpStatus = httpStatus;
    }

    public int httpStatus() {
        return httpStatus;
    }

    /** The code as it appears in the {@code error.code} field, e.g. {@code invalid_argument}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The code for an HTTP status Jetty produced on its own (bad request line, unknown path...). */
    public static ErrorCode forStatus(int status) {
        return switch (status) {
            case 400 -> INVALID_ARGUMENT;
            case 401 -> UNAUTHENTICATED;
            case 403 -> PERMISSION_DENIED;
            case 404 -> NOT_FOUND;
            case 405 -> METHOD_NOT_ALLOWED;
            case 409 -> ALREADY_EXISTS;
            case 413, 431 -> PAYLOAD_TOO_LARGE;
            case 415 -> UNSUPPORTED_MEDIA_TYPE;
            case 503 -> UNAVAILABLE;
            default -> status >= 400 && status < 500 ? INVALID_ARGUMENT : INTERNAL;
        };
    }
}
