package dev.sigil.server.agent.attestor.tpm;

/** A TPM structure that does not parse; the message names the structure and where it broke, never key material. */
final class TpmFormatException extends RuntimeException {
    TpmFormatException(String message) {
        super(message);
    }
}
