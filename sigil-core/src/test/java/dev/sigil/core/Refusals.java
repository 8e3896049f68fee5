package dev.sigil.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Pattern;

/**
 * The property every fuzz test checks of a refusal: it is the component's documented client-error
 * exception (checked by the caller) and its message can go to a log line or an error response as is:
 * present, one line of printable text, bounded whatever the input's size, and no {@code ": null"}
 * standing in for a missing detail. (sigil-testkit has the same check for the other modules.)
 */
public final class Refusals {
    /** Longer than any message a refusal needs; an input echoed unclipped goes past it. */
    public static final int MAX_MESSAGE_LENGTH = 1024;
    private static final Pattern NULL_DETAIL = Pattern.compile(": null(\\W|$)");
    private static final Pattern QUOTED = Pattern.compile("'[^']*'");

    private Refusals() {
    }

    public static void assertPresentable(Throwable refusal) {
        assertThat(refusal.getMessage()).as("message of %s", refusal.getClass().getSimpleName()).isNotBlank();
        assertPresentable(refusal.getMessage());
    }

    /**
     * The same property of a refusal whose message may quote the caller's {@code input} (clipped): a
     * {@code ": null"} is then allowed when the input itself says "null", or inside a {@code '...'}
     * quote (the caller's text after decoding, such as a JSON string), since either is the caller's
     * text, not a missing detail.
     */
    public static void assertPresentable(Throwable refusal, String input) {
        assertThat(refusal.getMessage()).as("message of %s", refusal.getClass().getSimpleName()).isNotBlank();
        check(refusal.getMessage(), false);
        String unquoted = QUOTED.matcher(refusal.getMessage()).replaceAll("''");
        assertThat(NULL_DETAIL.matcher(unquoted).find() && !input.contains("null"))
                .as("': null' outside the quotes of message '%s'", head(refusal.getMessage())).isFalse();
    }

    /** The same property of a message as a client received it (an error response's description). */
    public static void assertPresentable(String message) {
        check(message, true);
    }

    private static void check(String message, boolean noNullDetail) {
        assertThat(message).as("message").isNotBlank();
        assertThat(message.length()).as("length of message '%s'", head(message)).isLessThanOrEqualTo(MAX_MESSAGE_LENGTH);
        assertThat(message.chars().filter(Refusals::unprintable).findFirst())
                .as("control or line-breaking character in message '%s'", head(message)).isEmpty();
        if (noNullDetail) {
            assertThat(NULL_DETAIL.matcher(message).find()).as("': null' in message '%s'", head(message)).isFalse();
        }
    }

    private static boolean unprintable(int c) {
        return Character.isISOControl(c) || c == '\u2028' || c == '\u2029';
    }

    private static String head(String message) {
        String shown = message.codePoints().map(c -> unprintable(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        return shown.length() <= 300 ? shown : shown.substring(0, 300) + "...";
    }
}
