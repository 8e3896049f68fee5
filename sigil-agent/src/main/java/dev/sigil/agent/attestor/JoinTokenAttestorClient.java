package dev.sigil.agent.attestor;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Agent side of {@code join_token}: presents a one-time token. The token is a secret until the server
 * consumes it; it appears only in {@link #evidence()}, never in {@code toString()} or an exception.
 */
public final class JoinTokenAttestorClient implements NodeAttestorClient {
    public static final String TYPE = "join_token";

    private final String token;

    public JoinTokenAttestorClient(String token) {
        Objects.requireNonNull(token, "token");
        if (token.isBlank()) {
            throw new IllegalArgumentException("join token is blank; pass the token printed by 'sigil token generate'");
        }
        this.token = token.strip();
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public byte[] evidence() {
        return token.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] respond(byte[] challenge) {
        throw new IllegalStateException("join_token attestation has no challenge; the server sent one of "
                + (challenge == null ? 0 : challenge.length) + " bytes");
    }

    @Override
    public boolean singleUse() {
        return true;
    }

    @Override
    public String toString() {
        return "JoinTokenAttestorClient[token=<redacted>]";
    }
}
