package dev.sigil.server.audit;

/** The result of checking the whole audit chain. */
public sealed interface AuditVerification {

    /** Every record from 1 to {@code count} is present, in order, unmodified, and ends where the head says. */
    record Intact(long count, String headHash) implements AuditVerification {}

    /**
     * The chain is broken at {@code firstBadSeq}: that record was modified, deleted or moved, or the
     * head disagrees with the last record. {@code reason} says which check failed.
     */
    record Broken(long firstBadSeq, String reason) implements AuditVerification {}
}
