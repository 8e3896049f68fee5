package dev.sigil.server.audit;

import java.time.Instant;

/**
 * One stored audit record: the event, its place in the chain ({@code seq} 1, 2, 3 …), the time it
 * was appended (millisecond precision, from the appending server's clock, so not necessarily
 * monotonic across servers; {@code seq} is the order), its details as canonical JSON, and the hash
 * links. {@code hash} is SHA-256 over every other field including {@code prevHash}.
 */
public record AuditRecord(
        long seq,
        Instant time,
        String actor,
        String action,
        String subject,
        AuditOutcome outcome,
        String details,
        String prevHash,
        String hash) {}
