package dev.sigil.core.time;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as operators write them: {@code 30s}, {@code 5m}, {@code 1h}, {@code 7d}, {@code 500ms},
 * combinations in descending order ({@code 1h30m}, {@code 1s500ms}), or ISO-8601 ({@code PT1H}, {@code P7D}). A day is 24 hours.
 * Negative durations are refused.
 */
public final class Durations {
    private static final Pattern PART = Pattern.compile("(\\d{1,9})(ms|d|h|m|s)");
    private static final java.util.List<String> UNITS = java.util.List.of("d", "h", "m", "s", "ms");
    static final String EXPECTED = "use a number with a unit s, m, h or d (30s, 5m, 1h, 7d, 1h30m) or iso-8601 (PT1H)";

    private Durations() {
    }

    /** Parses {@code text}; the exception's message quotes it and says what is valid. */
    public static Duration parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("duration is empty; " + EXPECTED);
        }
        String trimmed = text.trim();
        if (trimmed.toUpperCase(Locale.ROOT).startsWith("P")) {
            try {
                Duration duration = Duration.parse(trimmed.toUpperCase(Locale.ROOT));
                if (duration.isNegative()) {
                    throw new IllegalArgumentException("duration '" + text + "' is negative; durations must be zero or more");
                }
                return duration;
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("'" + text + "' is not a duration; " + EXPECTED);
            }
        }
        Matcher matcher = PART.matcher(trimmed);
        Duration total = Duration.ZERO;
        int position = 0;
        int lastUnit = -1;
        while (position < trimmed.length()) {
            if (!matcher.find(position) || matcher.start() != position) {
                throw new IllegalArgumentException("'" + text + "' is not a duration; " + EXPECTED);
            }
            int unit = UNITS.indexOf(matcher.group(2));
            if (unit <= lastUnit) {
                throw new IllegalArgumentException("'" + text + "' is not a duration: units must go from large to small, each once; " + EXPECTED);
            }
            lastUnit = unit;
            long amount = Long.parseLong(matcher.group(1));
            total = total.plus(switch (matcher.group(2)) {
                case "d" -> Duration.ofDays(amount);
                case "h" -> Duration.ofHours(amount);
                case "m" -> Duration.ofMinutes(amount);
                case "ms" -> Duration.ofMillis(amount);
                default -> Duration.ofSeconds(amount);
            });
            position = matcher.end();
        }
        return total;
    }

    /** The shortest form {@link #parse} reads back: {@code 1h}, {@code 1h30m}, {@code 7d}, {@code 500ms}, {@code 0s}. */
    public static String format(Duration duration) {
        if (duration.isZero()) {
            return "0s";
        }
        if (duration.isNegative() || duration.getNano() % 1_000_000 != 0) {
            return duration.toString();
        }
        StringBuilder out = new StringBuilder();
        long seconds = duration.getSeconds();
        long[] sizes = {86_400, 3_600, 60, 1};
        for (int i = 0; i < sizes.length; i++) {
            long amount = seconds / sizes[i];
            if (amount > 0) {
                out.append(amount).append(UNITS.get(i));
                seconds -= amount * sizes[i];
            }
        }
        if (duration.getNano() != 0) {
            out.append(duration.getNano() / 1_000_000).append("ms");
        }
        return out.toString();
    }
}
