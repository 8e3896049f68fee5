package dev.sigil.server.admin;

import dev.sigil.server.http.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/health}: 200 {@code {"live":true,"ready":true}} when the readiness check passes,
 * otherwise 503 with code {@code unavailable} and the reason. {@code GET /v1/health/live}: 200 as long
 * as the process answers (liveness only).
 */
final class HealthRoutes {
    private static final Logger LOG = LoggerFactory.getLogger(HealthRoutes.class);

    record Health(boolean live, boolean ready) {
    }

    record Liveness(boolean live) {
    }

    private HealthRoutes() {
    }

    static Routes with(Routes routes, ReadinessCheck readiness) {
        return Routes.builder()
                .addAll(routes)
                .get("/v1/health", request -> ready(readiness))
                .get("/v1/health/live", request -> Reply.ok(new Liveness(true)))
                .build();
    }

    private static Reply ready(ReadinessCheck readiness) {
        ReadinessCheck.Readiness outcome;
        try {
            outcome = readiness.check();
        } catch (RuntimeException e) {
            LOG.warn("readiness check failed", e);
            outcome = new ReadinessCheck.Readiness.NotReady("the readiness check failed; see the server log");
        }
        return switch (outcome) {
            case ReadinessCheck.Readiness.Ready ready -> Reply.ok(new Health(true, true));
            case ReadinessCheck.Readiness.NotReady notReady ->
                    throw new ApiException(ErrorCode.UNAVAILABLE, "server is not ready: " + notReady.reason());
        };
    }
}
