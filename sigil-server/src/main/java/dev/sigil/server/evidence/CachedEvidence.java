package dev.sigil.server.evidence;

import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Remembers each subject's evidence for at most {@code maxAge}, so a busy workload's exchanges do not
 * each query the registration and agent tables. Security property: a change to registration entries or
 * agents (a ban, a new attestation) reaches policy decisions within {@code maxAge}; revocations that
 * must be immediate do not rely on evidence (drift gates, registry revocation). At most
 * {@value #MAX_ENTRIES} subjects are kept; beyond that the cache starts over.
 */
final class CachedEvidence implements SubjectEvidence {
    static final int MAX_ENTRIES = 10_000;

    private record Entry(Evidence evidence, Instant loadedAt) {}

    private final SubjectEvidence delegate;
    private final Clock clock;
    private final Duration maxAge;
    private final ConcurrentHashMap<SpiffeId, Entry> entries = new ConcurrentHashMap<>();

    CachedEvidence(SubjectEvidence delegate, Clock clock, Duration maxAge) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.maxAge = Objects.requireNonNull(maxAge, "maxAge");
    }

    @Override
    public Evidence of(SpiffeId subject) {
        Instant now = clock.instant();
        Entry entry = entries.get(subject);
        if (entry != null && !now.isBefore(entry.loadedAt()) && now.isBefore(entry.loadedAt().plus(maxAge))) {
            return entry.evidence();
        }
        Evidence evidence = delegate.of(subject);
        if (entries.size() >= MAX_ENTRIES) {
            entries.clear();
        }
        entries.put(subject, new Entry(evidence, now));
        return evidence;
    }
}
