package dev.sigil.core;

/**
 * Caller-supplied text made fit to quote in an exception message, a log line or an error response.
 * Guarantees: the result is one line of printable text (every control character, C0 and C1, and the
 * Unicode line and paragraph separators become {@code '?'}) and at most {@value #MAX_QUOTED} characters
 * plus {@code "..."}, whatever the input. Use it wherever a message repeats what a client sent, so a
 * refusal can neither forge log lines nor grow with the input.
 */
public final class Printable {
    /** Characters of a quoted value kept before it is clipped. */
    public static final int MAX_QUOTED = 200;

    private Printable() {
    }

    /** {@code text} with unprintable characters replaced and clipped to {@value #MAX_QUOTED} characters. */
    public static String clip(String text) {
        return clip(text, MAX_QUOTED);
    }

    /** {@code text} with unprintable characters replaced and clipped to {@code max} characters. */
    public static String clip(String text, int max) {
        if (text == null) {
            return "(none)";
        }
        boolean clipped = text.length() > max;
        int end = clipped ? max : text.length();
        if (clipped && Character.isHighSurrogate(text.charAt(end - 1))) {
            end--;
        }
        StringBuilder out = new StringBuilder(end + 3);
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i);
            out.append(unprintable(c) ? '?' : c);
        }
        return clipped ? out.append("...").toString() : out.toString();
    }

    /**
     * Why {@code failure} happened, fit to quote after a colon: its message through {@link #clip}, or its
     * kind ("IllegalStateException") when it has none, so that no message ends in {@code ": null"}.
     */
    public static String reason(Throwable failure) {
        String message = failure.getMessage();
        if (message == null || message.isBlank()) {
            return failure.getClass().getSimpleName();
        }
        // libraries chain causes as "what: cause"; a missing cause message is no detail, not "null"
        String cleaned = message.replaceAll(": null(?=\\W|$)", "");
        return clip(cleaned.isBlank() ? failure.getClass().getSimpleName() : cleaned);
    }

    /** One character as a message names it: {@code 'x'} when printable, else its code point ({@code U+000A}). */
    public static String character(char c) {
        return unprintable(c) || Character.isSurrogate(c) ? String.format("U+%04X", (int) c) : "'" + c + "'";
    }

    private static boolean unprintable(char c) {
        return Character.isISOControl(c) || c == '\u2028' || c == '\u2029';
    }
}
