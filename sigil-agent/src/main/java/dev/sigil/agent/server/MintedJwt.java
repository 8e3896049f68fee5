package dev.sigil.agent.server;

import java.time.Instant;
import java.util.Objects;

/** A JWT-SVID the server minted. {@link #toString()} never shows the token. */
public record MintedJwt(String token, Instant expiresAt) {
    public MintedJwt {
        if (token == null || token.isEmpty()) {
            throw new IllegalArgumentException("minted jwt-svid is empty");
        }
        Objects.requireNonNull(expiresAt, "expiresAt");
    }

    @Override
    public String toString() {
        return "MintedJwt[expiresAt=" + expiresAt + ", token=<redacted>]";
    }
}
