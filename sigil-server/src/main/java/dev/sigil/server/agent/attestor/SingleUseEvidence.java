package dev.sigil.server.agent.attestor;

import dev.sigil.server.datastore.Datastore;
import java.time.Clock;
import java.time.Instant;

/**
 * Evidence that an attestor accepts at most once (a platform-issued token), remembered in the datastore
 * until it could no longer be accepted anyway.
 *
 * <p>Security property: of any number of concurrent or later {@link #firstUse} calls with the same key,
 * on any server sharing the datastore, exactly one returns true while the key is remembered; a key is
 * forgotten only by {@link #pruneExpired} once {@code usableUntil} has passed. Keys are opaque digests
 * chosen by the attestor; the evidence itself is never stored.
 */
public interface SingleUseEvidence {
    /** Longest key accepted: a hex SHA-256. */
    int MAX_KEY_LENGTH = 64;

    static SingleUseEvidence create(Datastore datastore, Clock clock) {
        return new SqlSingleUseEvidence(datastore, clock);
    }

    /**
     * Records the use of the evidence named {@code key} (1 to {@value #MAX_KEY_LENGTH} characters) by
     * attestor {@code attestorType}; true when this is its first use, false when it was used before.
     *
     * @param usableUntil when the evidence stops being acceptable on its own (its expiry plus any skew)
     */
    boolean firstUse(String attestorType, String key, Instant usableUntil);

    /** Forgets evidence whose {@code usableUntil} has passed; returns how many were forgotten. */
    int pruneExpired();
}
