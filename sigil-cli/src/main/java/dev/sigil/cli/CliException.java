package dev.sigil.cli;

import dev.sigil.core.SigilException;

/**
 * A failure the CLI reports as one line on stderr ({@code sigil: <message>}) with a non-zero exit
 * code; the stack trace is shown only with {@code --debug}.
 */
public class CliException extends SigilException {
    private final int exitCode;

    public CliException(String message) {
        this(message, 1, null);
    }

    public CliException(String message, int exitCode, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
