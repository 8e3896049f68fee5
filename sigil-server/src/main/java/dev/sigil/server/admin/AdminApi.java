package dev.sigil.server.admin;

import java.util.Objects;
import java.util.Optional;

/**
 * What the integrator plugs into the admin transport: the routes it serves, the readiness check behind
 * {@code GET /v1/health}, the mapping of its domain exceptions to API errors and, optionally, a
 * {@link BrowserFrontEnd} served under {@code /console} on the same listeners.
 */
public record AdminApi(Routes routes, ReadinessCheck readiness, ExceptionMapper exceptionMapper, Optional<BrowserFrontEnd> console) {
    public AdminApi {
        Objects.requireNonNull(routes, "routes");
        Objects.requireNonNull(readiness, "readiness");
        Objects.requireNonNull(exceptionMapper, "exceptionMapper");
        Objects.requireNonNull(console, "console");
    }

    /** Without a browser front end. */
    public AdminApi(Routes routes, ReadinessCheck readiness, ExceptionMapper exceptionMapper) {
        this(routes, readiness, exceptionMapper, Optional.empty());
    }

    /** This API, also serving {@code console} under {@code /console}. */
    public AdminApi withConsole(BrowserFrontEnd console) {
        return new AdminApi(routes, readiness, exceptionMapper, Optional.of(console));
    }

    /** Routes only; always ready, no domain exception mapping. */
    public static AdminApi of(Routes routes) {
        return new AdminApi(routes, ReadinessCheck.alwaysReady(), ExceptionMapper.none());
    }
}
