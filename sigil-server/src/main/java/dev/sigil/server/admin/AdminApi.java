package dev.sigil.server.admin;

import java.util.Objects;

/**
 * What the integrator plugs into the admin transport: the routes it serves, the readiness check behind
 * {@code GET /v1/health}, and the mapping of its domain exceptions to API errors.
 */
public record AdminApi(Routes routes, ReadinessCheck readiness, ExceptionMapper exceptionMapper) {
    public AdminApi {
        Objects.requireNonNull(routes, "routes");
        Objects.requireNonNull(readiness, "readiness");
        Objects.requireNonNull(exceptionMapper, "exceptionMapper");
    }

    /** Routes only; always ready, no domain exception mapping. */
    public static AdminApi of(Routes routes) {
        return new AdminApi(routes, ReadinessCheck.alwaysReady(), ExceptionMapper.none());
    }
}
