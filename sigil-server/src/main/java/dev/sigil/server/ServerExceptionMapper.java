package dev.sigil.server;

import dev.sigil.core.selector.InvalidSelectorException;
import dev.sigil.core.spiffeid.InvalidSpiffeIdException;
import dev.sigil.server.admin.ApiException;
import dev.sigil.server.admin.ExceptionMapper;
import dev.sigil.server.audit.AuditException;
import dev.sigil.server.authority.AuthorityException;
import dev.sigil.server.authority.CsrRejectedException;
import dev.sigil.server.datastore.DatastoreException;
import dev.sigil.server.http.ErrorCode;
import dev.sigil.server.registration.RegistrationErrors;
import dev.sigil.server.registration.RegistrationException;
import java.util.Optional;

/**
 * Translates the server components' exceptions into admin API errors. Client mistakes become 4xx with
 * the component's message (which names the bad value); failures of the server's own dependencies
 * become 503 with a generic message, the details staying in the server log.
 */
final class ServerExceptionMapper implements ExceptionMapper {
    @Override
    public Optional<ApiException> map(RuntimeException e) {
        return Optional.ofNullable(switch (e) {
            case RegistrationException registration -> RegistrationErrors.toApi(registration);
            case CsrRejectedException csr -> new ApiException(ErrorCode.INVALID_ARGUMENT, csr.getMessage(), csr);
            case InvalidSpiffeIdException id -> new ApiException(ErrorCode.INVALID_ARGUMENT, id.getMessage(), id);
            case InvalidSelectorException selector -> new ApiException(ErrorCode.INVALID_ARGUMENT, selector.getMessage(), selector);
            case AuditException audit -> new ApiException(ErrorCode.UNAVAILABLE,
                    "the audit trail cannot be written, so nothing was changed or issued; see the server log", audit);
            case DatastoreException datastore -> new ApiException(ErrorCode.UNAVAILABLE,
                    "the datastore is unavailable; see the server log", datastore);
            case AuthorityException authority -> new ApiException(ErrorCode.UNAVAILABLE,
                    "the signing authority is unavailable; see the server log", authority);
            case IllegalArgumentException invalid -> new ApiException(ErrorCode.INVALID_ARGUMENT, invalid.getMessage(), invalid);
            default -> null;
        });
    }
}
