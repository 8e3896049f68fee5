package dev.sigil.server.registration;

import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Instant;
import java.util.Optional;

/** What presenting a join token achieved. Only {@link Consumed} admits the node. */
public sealed interface JoinTokenConsumption {

    /** The token was valid and is now used up; no one can present it again. */
    record Consumed(String tokenId, Optional<SpiffeId> spiffeId, Instant expiresAt) implements JoinTokenConsumption {}

    /** No such token: never issued, already used, or pruned. */
    record Unknown() implements JoinTokenConsumption {}

    /** The token existed but expired at {@code expiredAt}; it is now deleted. */
    record Expired(String tokenId, Instant expiredAt) implements JoinTokenConsumption {}
}
