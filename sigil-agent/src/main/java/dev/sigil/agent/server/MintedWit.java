package dev.sigil.agent.server;

import java.time.Instant;
import java.util.Objects;

/** A WIT-SVID the server minted for a key the agent holds. {@link #toString()} never shows the token. */
public record MintedWit(String token, Instant expiresAt) {
    public MintedWit {
        if (token == null || token.isEmpty()) {
            throw new IllegalArgumentException("minted wit-svid is empty");
        }
        Objects.requireNonNull(expiresAt, "expiresAt");
    }

    @Override
    public String toString() {
        return "MintedWit[expiresAt=" + expiresAt + ", token=<redacted>]";
    }
}
