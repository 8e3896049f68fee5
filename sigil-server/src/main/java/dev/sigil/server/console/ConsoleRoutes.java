package dev.sigil.server.console;

import dev.sigil.server.admin.Actor;
import dev.sigil.server.admin.ApiException;
import dev.sigil.server.admin.Reply;
import dev.sigil.server.admin.Routes;
import java.time.Instant;
import java.util.Objects;

/**
 * {@code POST /v1/console/login}: an authenticated admin asks for a one-time code that opens a console
 * session acting for it ({@code sigil console} does this over the admin socket). The code is in the
 * answer only, never in a log.
 */
public final class ConsoleRoutes {
    private final ConsoleSessions sessions;

    public ConsoleRoutes(ConsoleSessions sessions) {
        this.sessions = Objects.requireNonNull(sessions, "sessions");
    }

    record LoginJson(String code, String loginPath, Instant expiresAt, long expiresIn) {
        @Override
        public String toString() {
            return "LoginJson[expiresAt=" + expiresAt + "]";
        }
    }

    public Routes routes() {
        return Routes.builder()
                .post("/v1/console/login", request -> {
                    if (request.actor() instanceof Actor.Console) {
                        throw ApiException.permissionDenied("a console session cannot mint console login codes");
                    }
                    ConsoleSessions.LoginCode code = sessions.issue(request.actor());
                    return Reply.created(new LoginJson(code.code(), Console.LOGIN_PATH + "?code=" + code.code(), code.expiresAt(),
                            ConsoleSessions.CODE_TTL.toSeconds()));
                })
                .build();
    }
}
