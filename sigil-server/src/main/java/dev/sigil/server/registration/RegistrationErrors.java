package dev.sigil.server.registration;

import dev.sigil.server.admin.ApiException;
import dev.sigil.server.http.ErrorCode;

/** Maps registration failures to the admin API's stable error codes. */
public final class RegistrationErrors {
    private RegistrationErrors() {
    }

    public static ErrorCode code(RegistrationException e) {
        return switch (e.reason()) {
            case INVALID_ARGUMENT -> ErrorCode.INVALID_ARGUMENT;
            case NOT_FOUND -> ErrorCode.NOT_FOUND;
            case ALREADY_EXISTS -> ErrorCode.ALREADY_EXISTS;
            case REVISION_CONFLICT -> ErrorCode.REVISION_CONFLICT;
        };
    }

    public static ApiException toApi(RegistrationException e) {
        return new ApiException(code(e), e.getMessage(), e);
    }
}
