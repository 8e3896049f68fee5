package dev.sigil.server.admin;

import java.util.Optional;

/**
 * Translates the integrator's domain exceptions (entry not found, revision mismatch, token expired...)
 * into API errors, so handlers need not catch and rethrow. {@link ApiException} and invalid SPIFFE IDs
 * are mapped before any mapper runs; whatever no mapper knows becomes a logged, generic 500.
 */
@FunctionalInterface
public interface ExceptionMapper {
    /** The API error for {@code exception}, or empty when this mapper does not know it. */
    Optional<ApiException> map(RuntimeException exception);

    /** A mapper that knows nothing. */
    static ExceptionMapper none() {
        return exception -> Optional.empty();
    }

    /** This mapper, then {@code next} for what this one does not know. */
    default ExceptionMapper orElse(ExceptionMapper next) {
        return exception -> {
            Optional<ApiException> mapped = map(exception);
            return mapped.isPresent() ? mapped : next.map(exception);
        };
    }
}
