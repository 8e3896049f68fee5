package dev.sigil.server.audit;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Which audit records to return: all given criteria must match. Results come in {@code seq} order,
 * starting after {@code afterSeq}, at most {@code limit} of them; pass the last returned seq as
 * {@code afterSeq} to read on. {@code from} is inclusive, {@code to} exclusive.
 */
public record AuditQuery(
        Optional<String> actor,
        Optional<String> subject,
        Optional<String> actionPrefix,
        Optional<Instant> from,
        Optional<Instant> to,
        long afterSeq,
        int limit) {
    public static final int MAX_LIMIT = 10_000;

    public AuditQuery {
        Objects.requireNonNull(actor, "actor");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(actionPrefix, "actionPrefix");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        if (afterSeq < 0) {
            throw new AuditException("audit query afterSeq is " + afterSeq + "; it must be 0 or more");
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new AuditException("audit query limit is " + limit + "; it must be between 1 and " + MAX_LIMIT);
        }
    }

    /** Every record, the first 1000. */
    public static AuditQuery all() {
        return new AuditQuery(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), 0, 1000);
    }

    public AuditQuery byActor(String value) {
        return new AuditQuery(Optional.of(value), subject, actionPrefix, from, to, afterSeq, limit);
    }

    public AuditQuery bySubject(String value) {
        return new AuditQuery(actor, Optional.of(value), actionPrefix, from, to, afterSeq, limit);
    }

    /** Actions starting with {@code prefix}: {@code "entry."} matches entry.create, entry.update, … */
    public AuditQuery byActionPrefix(String prefix) {
        return new AuditQuery(actor, subject, Optional.of(prefix), from, to, afterSeq, limit);
    }

    public AuditQuery between(Instant fromInclusive, Instant toExclusive) {
        return new AuditQuery(actor, subject, actionPrefix, Optional.of(fromInclusive), Optional.of(toExclusive), afterSeq, limit);
    }

    public AuditQuery after(long seq) {
        return new AuditQuery(actor, subject, actionPrefix, from, to, seq, limit);
    }

    public AuditQuery limit(int value) {
        return new AuditQuery(actor, subject, actionPrefix, from, to, afterSeq, value);
    }
}
