package dev.sigil.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Renders a policy refusal whose CEL error the server sends on one line (refusal messages are single
 * lines) with the expression and the caret on lines of their own again: the server writes CEL's
 * {@code " | expression"} and {@code " | ....^"} lines after two spaces, which is where they are split.
 * Any other message is one line, unchanged.
 */
final class CelCarets {
    private static final String CONTINUATION = "  | ";

    private CelCarets() {
    }

    static List<String> lines(String message) {
        int first = message.indexOf(CONTINUATION);
        if (!message.contains("does not compile") || first < 0 || !message.substring(first).contains("^")) {
            return List.of(message);
        }
        List<String> lines = new ArrayList<>();
        lines.add(message.substring(0, first));
        String rest = message.substring(first);
        int next;
        while ((next = rest.indexOf(CONTINUATION, CONTINUATION.length())) > 0) {
            lines.add("   " + rest.substring(1, next).stripTrailing());
            rest = rest.substring(next);
        }
        // the last segment ends with the caret, possibly followed by the rest of the refusal on the same line
        int caret = rest.indexOf('^');
        lines.add("   " + rest.substring(1, caret + 1));
        String after = rest.substring(caret + 1).strip();
        if (!after.isEmpty()) {
            lines.set(0, lines.get(0) + " " + after);
        }
        return lines;
    }

    static String render(String message) {
        return String.join("\n", lines(message));
    }
}
