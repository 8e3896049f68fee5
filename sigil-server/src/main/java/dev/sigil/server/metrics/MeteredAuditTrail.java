package dev.sigil.server.metrics;

import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditQuery;
import dev.sigil.server.audit.AuditRecord;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.audit.AuditVerification;
import dev.sigil.server.datastore.Transaction;
import java.sql.SQLException;
import java.util.List;

/**
 * An audit trail that counts what it records ({@link AuditMeters}), after the delegate returns: a record
 * whose own transaction failed is not counted. Records appended inside a caller's transaction are
 * counted when the append returns; the rare caller that rolls back afterwards is counted anyway.
 * Changes nothing about what is recorded, or when.
 */
final class MeteredAuditTrail implements AuditTrail {
    private final AuditTrail delegate;
    private final AuditMeters meters;

    MeteredAuditTrail(AuditTrail delegate, AuditMeters meters) {
        this.delegate = delegate;
        this.meters = meters;
    }

    @Override
    public AuditRecord append(Transaction transaction, AuditEvent event) throws SQLException {
        AuditRecord record = delegate.append(transaction, event);
        meters.recorded(event);
        return record;
    }

    @Override
    public List<AuditRecord> appendAll(Transaction transaction, List<AuditEvent> events) throws SQLException {
        List<AuditRecord> records = delegate.appendAll(transaction, events);
        events.forEach(meters::recorded);
        return records;
    }

    @Override
    public AuditRecord append(AuditEvent event) {
        AuditRecord record = delegate.append(event);
        meters.recorded(event);
        return record;
    }

    @Override
    public AuditRecord append(AuditEvent event, Alongside alongside) {
        AuditRecord record = delegate.append(event, alongside);
        meters.recorded(event);
        return record;
    }

    @Override
    public List<AuditRecord> appendAll(List<AuditEvent> events) {
        List<AuditRecord> records = delegate.appendAll(events);
        events.forEach(meters::recorded);
        return records;
    }

    @Override
    public AuditVerification verify() {
        return delegate.verify();
    }

    @Override
    public List<AuditRecord> query(AuditQuery query) {
        return delegate.query(query);
    }
}
