package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * Says on stderr when the server granted less lifetime than asked for (its caps, the policy's
 * {@code max_ttl}, a task's expiry, a lease's maximum), so a capped TTL is never silent. The command
 * still succeeds: what was issued is valid, only shorter.
 */
final class TtlCap {
    /** Clock skew and request time tolerated before a shorter lifetime counts as capped. */
    private static final Duration SLACK = Duration.ofSeconds(30);

    private TtlCap() {
    }

    /** Warns when {@code expiresAt} (RFC 3339, as answered) is earlier than {@code requested} from now. */
    static void warnIfCapped(PrintWriter err, String what, Duration requested, JsonNode expiresAt) {
        if (requested == null || expiresAt == null || !expiresAt.isTextual()) {
            return;
        }
        Instant expiry;
        try {
            expiry = Instant.parse(expiresAt.asText());
        } catch (DateTimeParseException e) {
            return;
        }
        Instant now = Instant.now();
        if (expiry.isBefore(now.plus(requested).minus(SLACK))) {
            Duration granted = Duration.between(now, expiry);
            err.println("sigil: warning: the " + what + " ttl was capped: asked for " + human(requested) + ", granted about "
                    + human(granted.isNegative() ? Duration.ZERO : granted) + " (expires at " + expiry
                    + "); the server's, broker's or policy's maximum applies");
            err.flush();
        }
    }

    static String human(Duration duration) {
        long seconds = Math.round(duration.toMillis() / 1000.0);
        if (seconds % 3600 == 0 && seconds > 0) {
            return seconds / 3600 + "h";
        }
        if (seconds % 60 == 0 && seconds > 0) {
            return seconds / 60 + "m";
        }
        if (seconds >= 3600) {
            return seconds / 3600 + "h" + (seconds % 3600) / 60 + "m";
        }
        if (seconds >= 60) {
            return seconds / 60 + "m" + seconds % 60 + "s";
        }
        return seconds + "s";
    }
}
