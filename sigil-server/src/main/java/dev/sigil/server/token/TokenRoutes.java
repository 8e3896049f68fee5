package dev.sigil.server.token;

import dev.sigil.server.admin.AdminRequest;
import dev.sigil.server.admin.ApiException;
import dev.sigil.server.admin.Reply;
import dev.sigil.server.admin.Routes;
import java.util.Map;

/** Admin API: {@code POST /v1/tokens/revoke {"jti": ...}} revokes any issued access token. */
public final class TokenRoutes {
    private final TokenService service;

    public TokenRoutes(TokenService service) {
        this.service = service;
    }

    record RevokeRequest(String jti) {
    }

    public Routes routes() {
        return Routes.builder()
                .post("/v1/tokens/revoke", this::revoke)
                .build();
    }

    private Reply revoke(AdminRequest request) {
        RevokeRequest body = request.body(RevokeRequest.class);
        if (body.jti() == null || body.jti().isBlank() || body.jti().length() > 128) {
            throw ApiException.invalidArgument("jti is required: the id of an issued access token");
        }
        if (!service.revoke(body.jti(), request.actor().describe())) {
            throw ApiException.notFound("no access token with jti '" + body.jti() + "' was issued");
        }
        return Reply.ok(Map.of("jti", body.jti(), "revoked", true));
    }
}
