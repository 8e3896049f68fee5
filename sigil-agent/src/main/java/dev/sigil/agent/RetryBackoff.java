package dev.sigil.agent;

import java.time.Duration;
import java.util.Objects;

/**
 * How long the agent waits between attempts to reach a server that does not answer: {@code initial}
 * after the first failure, doubling after each further one, never more than {@code max}.
 */
public record RetryBackoff(Duration initial, Duration max) {
    /** 1 s, 2 s, 4 s … up to 30 s between attempts. */
    public static final RetryBackoff DEFAULT = new RetryBackoff(Duration.ofSeconds(1), Duration.ofSeconds(30));

    public RetryBackoff {
        Objects.requireNonNull(initial, "initial");
        Objects.requireNonNull(max, "max");
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("retry backoff " + initial + " to " + max + " must be positive and increasing");
        }
    }

    /** The wait after failed attempt number {@code attempt} (1 for the first). */
    public Duration after(int attempt) {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt " + attempt + " must be at least 1");
        }
        Duration delay = initial;
        for (int i = 1; i < attempt && delay.compareTo(max) < 0; i++) {
            delay = delay.multipliedBy(2);
        }
        return delay.compareTo(max) > 0 ? max : delay;
    }
}
