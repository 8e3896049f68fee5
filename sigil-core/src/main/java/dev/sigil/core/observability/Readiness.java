package dev.sigil.core.observability;

import java.util.Objects;

/** Whether a process can do its job now: the answer of {@code /healthz/ready}. */
public sealed interface Readiness {
    record Ready() implements Readiness {
    }

    /** Not ready; {@code reason} is served to whoever may reach the listener, so it never holds a secret. */
    record NotReady(String reason) implements Readiness {
        public NotReady {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
