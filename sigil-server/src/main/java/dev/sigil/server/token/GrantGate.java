package dev.sigil.server.token;

import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Instant;
import java.util.Optional;

/**
 * Refuses grants to a holder whose presented credential is too old, e.g. issued before the holder
 * drifted (implemented by the drift gates). Consulted for the subject and the actor of every exchange.
 */
@FunctionalInterface
public interface GrantGate {
    /** Why {@code holder}, presenting a credential issued at {@code credentialIssuedAt}, gets nothing new; empty to allow. */
    Optional<String> refusal(SpiffeId holder, Instant credentialIssuedAt);

    static GrantGate open() {
        return (holder, issuedAt) -> Optional.empty();
    }
}
