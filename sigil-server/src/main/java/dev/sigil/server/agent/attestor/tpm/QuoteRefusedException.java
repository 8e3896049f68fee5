package dev.sigil.server.agent.attestor.tpm;

/** A quote (or an answer carrying one) that is not acceptable; {@code malformed} when it did not parse. */
final class QuoteRefusedException extends RuntimeException {
    private final boolean malformed;

    QuoteRefusedException(String message, boolean malformed) {
        super(message);
        this.malformed = malformed;
    }

    boolean malformed() {
        return malformed;
    }
}
