package dev.sigil.server.federation;

import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The federation relationships, shared by every server on the datastore. Every change is audited in
 * the transaction that makes it: {@code federation.create}, {@code federation.update},
 * {@code federation.delete} by the operator; {@code federation.bundle_updated} (new sequence and key ids)
 * and {@code federation.refresh_failed} (once per change from working to failing) by the refresher.
 * Refresh results are idempotent: several servers refreshing the same relationship write (and audit)
 * a changed bundle once.
 */
public interface FederationStore {
    static FederationStore create(Datastore datastore, AuditTrail audit, Clock clock) {
        return new SqlFederationStore(datastore, audit, clock);
    }

    /** The outcome of a change an operator asked for. */
    sealed interface Change {
        record Done(FederationRelationship relationship) implements Change {
        }

        record AlreadyExists(FederationRelationship existing) implements Change {
        }

        record NotFound() implements Change {
        }

        record RevisionConflict(long current) implements Change {
        }

        /** An https_spiffe relationship without any bundle of its trust domain to authenticate the endpoint with. */
        record BundleRequired() implements Change {
        }
    }

    Change create(FederationDraft draft, String actor);

    /** Replaces the relationship's endpoint and profile (and its bundle, when the draft gives one). */
    Change update(FederationDraft draft, Optional<Long> expectedRevision, String actor);

    Change delete(TrustDomain trustDomain, Optional<Long> expectedRevision, String actor);

    Optional<FederationRelationship> find(TrustDomain trustDomain);

    /** Every relationship, ordered by trust domain. */
    List<FederationRelationship> list();

    /**
     * Records a successful refresh: stores {@code bundle} when it differs from the stored one (auditing
     * {@code federation.bundle_updated}) and clears the error. Returns true when the bundle changed.
     */
    boolean recordRefresh(TrustDomain trustDomain, SpiffeBundle bundle, Instant at);

    /**
     * Records a failed refresh, keeping the stored bundle; audits {@code federation.refresh_failed} only
     * when the relationship was not already failing. Returns true when it was newly failing.
     */
    boolean recordFailure(TrustDomain trustDomain, String error, Instant at);
}
