package dev.sigil.server.evidence;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * What the server knows, from attestation, about the workload behind a SPIFFE ID: the selectors it
 * was attested with, its trust level and when its node was last attested. Policy sees only this
 * evidence, never what the requester asserts. A SPIFFE ID no live attestation vouches for (an SVID
 * minted by an operator, say) has no selectors and trust level 0.
 */
@FunctionalInterface
public interface SubjectEvidence {
    /**
     * How stale the evidence a grant decision (token exchange, lease) sees may be: a change to registration
     * entries or agents (a ban, a new attestation) reaches those decisions within this time. What must be
     * immediate does not rely on evidence (drift gates, registry revocation, a banned agent's own calls).
     */
    java.time.Duration DECISION_MAX_AGE = java.time.Duration.ofSeconds(1);

    Evidence of(SpiffeId subject);

    /** {@code delegate}'s evidence, each subject's remembered for at most {@code maxAge} (see {@link CachedEvidence}). */
    static SubjectEvidence cached(SubjectEvidence delegate, java.time.Clock clock, java.time.Duration maxAge) {
        return new CachedEvidence(delegate, clock, maxAge);
    }

    /**
     * @param trustLevel the lower of the node's and the workload attestation's level (for several issuing
     *                   entries, the lowest of those)
     * @param trustBasis how {@code trustLevel} was reached, for refusals: each issuing entry's node and
     *                   workload levels
     */
    record Evidence(Set<Selector> selectors, int trustLevel, Optional<Instant> attestedAt, String trustBasis) {
        public Evidence {
            selectors = Set.copyOf(selectors);
            java.util.Objects.requireNonNull(trustBasis, "trustBasis");
        }

        public Evidence(Set<Selector> selectors, int trustLevel, Optional<Instant> attestedAt) {
            this(selectors, trustLevel, attestedAt, "trust level " + trustLevel);
        }

        public static Evidence none() {
            return new Evidence(Set.of(), 0, Optional.empty(), "trust level 0: no live attestation vouches for the subject");
        }
    }
}
