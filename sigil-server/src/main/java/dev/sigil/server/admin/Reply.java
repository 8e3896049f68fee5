package dev.sigil.server.admin;

import java.util.Optional;

/**
 * A successful answer from a route handler: a 2xx status and an optional body, serialized as JSON with
 * {@link ApiJson}. Failures are thrown as {@link ApiException}, never returned.
 */
public record Reply(int status, Optional<Object> body) {
    public Reply {
        if (status < 200 || status > 299) {
            throw new IllegalArgumentException("a reply's status must be 2xx, got " + status + "; throw an ApiException for errors");
        }
        if (status == 204 && body.isPresent()) {
            throw new IllegalArgumentException("a 204 reply cannot have a body");
        }
    }

    public static Reply ok(Object body) {
        return new Reply(200, Optional.of(body));
    }

    public static Reply created(Object body) {
        return new Reply(201, Optional.of(body));
    }

    public static Reply noContent() {
        return new Reply(204, Optional.empty());
    }
}
