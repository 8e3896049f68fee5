package dev.sigil.server.registration;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A stored registration entry: workloads (or nodes) whose attested selectors include all of
 * {@link #selectors()}, running under {@link #parentId()}, may receive {@link #spiffeId()}.
 *
 * <p>{@code id} is assigned by the server and never reused. {@code revision} is the value of the
 * store's global change counter at this entry's last change: strictly increasing across all entries
 * and deletions, so "everything with a revision above N" is exactly what changed since N.
 */
public record RegistrationEntry(String id, EntryDraft draft, long revision, Instant createdAt, Instant updatedAt) {

    public RegistrationEntry {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(draft, "draft");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
    }

    public SpiffeId spiffeId() {
        return draft.spiffeId();
    }

    public SpiffeId parentId() {
        return draft.parentId();
    }

    public List<Selector> selectors() {
        return draft.selectors();
    }

    /** Zero means the server's default. */
    public Duration x509SvidTtl() {
        return draft.x509SvidTtl();
    }

    /** Zero means the server's default. */
    public Duration jwtSvidTtl() {
        return draft.jwtSvidTtl();
    }

    public List<String> dnsNames() {
        return draft.dnsNames();
    }

    /** The team or person accountable for this identity. */
    public String owner() {
        return draft.owner();
    }

    public Optional<Instant> expiresAt() {
        return draft.expiresAt();
    }

    public boolean admin() {
        return draft.admin();
    }

    public String hint() {
        return draft.hint();
    }

    public List<TrustDomain> federatesWith() {
        return draft.federatesWith();
    }
}
