package dev.sigil.server.token;

import dev.sigil.core.SigilException;
import dev.sigil.server.http.JsonResponses;

/**
 * A refusal the client should see, as an RFC 6749 section 5.2 error: {@code error} is one of the
 * registered codes and {@code description} says what was wrong (never a secret or a token).
 */
final class OAuthException extends SigilException {
    private final int status;
    private final String error;
    /** Who presented a token that verified but was refused (revoked, an access token): for the audit trail. */
    private transient dev.sigil.core.spiffeid.SpiffeId presentedBy;
    /** Set once the refusal is in the audit trail, so it is recorded once. */
    private transient boolean audited;

    /** {@code description} may quote the request: it is kept to one printable line of at most 1,000 characters. */
    OAuthException(int status, String error, String description) {
        super(dev.sigil.core.Printable.clip(description, 1000));
        this.status = status;
        this.error = error;
    }

    static OAuthException invalidRequest(String description) {
        return new OAuthException(400, "invalid_request", description);
    }

    static OAuthException invalidGrant(String description) {
        return new OAuthException(400, "invalid_grant", description);
    }

    static OAuthException invalidClient(String description) {
        return new OAuthException(401, "invalid_client", description);
    }

    static OAuthException invalidTarget(String description) {
        return new OAuthException(400, "invalid_target", description);
    }

    static OAuthException invalidScope(String description) {
        return new OAuthException(400, "invalid_scope", description);
    }

    static OAuthException accessDenied(String description) {
        return new OAuthException(403, "access_denied", description);
    }

    /** This refusal, naming the verified subject of the refused token. */
    OAuthException presentedBy(dev.sigil.core.spiffeid.SpiffeId subject) {
        this.presentedBy = subject;
        return this;
    }

    java.util.Optional<dev.sigil.core.spiffeid.SpiffeId> presentedBy() {
        return java.util.Optional.ofNullable(presentedBy);
    }

    OAuthException audited() {
        this.audited = true;
        return this;
    }

    boolean isAudited() {
        return audited;
    }

    int status() {
        return status;
    }

    String error() {
        return error;
    }

    String json() {
        return "{\"error\":" + JsonResponses.quote(error) + ",\"error_description\":" + JsonResponses.quote(getMessage()) + "}";
    }
}
