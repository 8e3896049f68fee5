package dev.sigil.server.admin;

import dev.sigil.core.SigilException;
import dev.sigil.server.http.ErrorCode;
import java.util.Objects;

/**
 * A failure a route handler reports to the caller: the {@link ErrorCode} picks the HTTP status and the
 * {@code error.code} field, the message is sent verbatim. Messages are lower-case, name the bad value
 * and what would be valid, and never contain secrets or internals. Since they may quote what the
 * caller sent, every message is kept to one printable line of at most 800 characters.
 */
public class ApiException extends SigilException {
    private final ErrorCode code;

    public ApiException(ErrorCode code, String message) {
        super(dev.sigil.core.Printable.clip(Objects.requireNonNull(message, "message"), 800));
        this.code = Objects.requireNonNull(code, "code");
    }

    public ApiException(ErrorCode code, String message, Throwable cause) {
        super(dev.sigil.core.Printable.clip(Objects.requireNonNull(message, "message"), 800), cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    public ErrorCode code() {
        return code;
    }

    public static ApiException invalidArgument(String message) {
        return new ApiException(ErrorCode.INVALID_ARGUMENT, message);
    }

    public static ApiException notFound(String message) {
        return new ApiException(ErrorCode.NOT_FOUND, message);
    }

    public static ApiException alreadyExists(String message) {
        return new ApiException(ErrorCode.ALREADY_EXISTS, message);
    }

    public static ApiException revisionConflict(String message) {
        return new ApiException(ErrorCode.REVISION_CONFLICT, message);
    }

    public static ApiException permissionDenied(String message) {
        return new ApiException(ErrorCode.PERMISSION_DENIED, message);
    }
}
