package dev.sigil.server.admin;

import java.util.Objects;

/**
 * Whether the server can do its job now (datastore reachable, CA key loaded...). Liveness is implied
 * by answering at all. Must be quick (it runs on every health request); an exception counts as not
 * ready.
 */
@FunctionalInterface
public interface ReadinessCheck {
    Readiness check();

    static ReadinessCheck alwaysReady() {
        return Readiness.Ready::new;
    }

    /** The outcome of a readiness check. */
    sealed interface Readiness {
        record Ready() implements Readiness {
        }

        /** Not ready; {@code reason} is shown to operators, so it must not contain secrets. */
        record NotReady(String reason) implements Readiness {
            public NotReady {
                Objects.requireNonNull(reason, "reason");
            }
        }
    }
}
