package dev.sigil.server.agent;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * A registered agent: the node it runs on was attested by {@code attestorType}, which vouched for
 * {@code selectors} at {@code trustLevel}. Only the X.509-SVID with serial {@code svidSerial}
 * (lower-case hex) authenticates it, until {@code svidExpiresAt}. A banned agent is refused at its
 * next call and cannot attest again until evicted.
 */
public record Agent(SpiffeId spiffeId, String attestorType, List<Selector> selectors, int trustLevel, String svidSerial,
                    Instant svidExpiresAt, Instant firstAttestedAt, Instant lastAttestedAt, boolean banned, long revision,
                    Instant updatedAt) {
    public Agent {
        Objects.requireNonNull(spiffeId, "spiffeId");
        Objects.requireNonNull(attestorType, "attestorType");
        selectors = List.copyOf(new TreeSet<>(selectors));
        if (trustLevel < 0 || trustLevel > 3) {
            throw new IllegalArgumentException("agent trust level is " + trustLevel + "; it must be 0 to 3");
        }
        Objects.requireNonNull(svidSerial, "svidSerial");
        Objects.requireNonNull(svidExpiresAt, "svidExpiresAt");
        Objects.requireNonNull(firstAttestedAt, "firstAttestedAt");
        Objects.requireNonNull(lastAttestedAt, "lastAttestedAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
    }
}
