package dev.sigil.server.authority;

import java.time.Instant;

/** A committed change in the life of an authority (see {@link AuthorityState}). */
public sealed interface RotationEvent {
    AuthorityKind kind();

    String authorityId();

    /** When the change happened, by the authority's clock. */
    Instant at();

    /** A new authority was created and added to the bundle. */
    record Prepared(AuthorityKind kind, String authorityId, String keyId, Instant notBefore, Instant notAfter,
            long bundleSequence, Instant at) implements RotationEvent {}

    /** An authority became the one that signs. */
    record Activated(AuthorityKind kind, String authorityId, Instant at) implements RotationEvent {}

    /** An authority stopped signing; it stays in the bundle until {@code notAfter}. */
    record Retired(AuthorityKind kind, String authorityId, Instant notAfter, Instant at) implements RotationEvent {}

    /** An expired authority was removed from the bundle and its key deleted. */
    record Pruned(AuthorityKind kind, String authorityId, long bundleSequence, Instant at) implements RotationEvent {}
}
