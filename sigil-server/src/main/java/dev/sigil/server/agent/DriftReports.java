package dev.sigil.server.agent;

import dev.sigil.core.SigilException;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.proto.agent.v1.DriftAck;
import dev.sigil.proto.agent.v1.DriftReport;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.registration.RegistrationEntry;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts agents' workload drift reports ({@code ReportDrift}): validates them, audits them and hands
 * them to the {@link DriftListener}.
 *
 * <p>Security: the reporter is the authenticated agent, and only SPIFFE IDs of entries it is
 * authorized to serve ({@link AuthorizedEntries}) are acted on: any other ID a report names is audited
 * as denied and left out, so an agent cannot trigger revocation of identities served elsewhere; a report
 * naming no authorized ID at all is refused (PERMISSION_DENIED). (An ID whose entry was deleted after
 * its SVID was served is such an ID: entry deletion has its own revocation path.) An accepted report writes one {@code workload.drift} record per affected SPIFFE ID (subject
 * = that ID, so {@code --workload} finds it), all sharing one {@code drift_id}; the {@code reason}
 * detail is {@code exited} (benign, {@code benign=true}) or {@code selectors_changed}. The listener is
 * called only after the records are committed. Retries of one report (same agent and report id) are
 * answered with the first drift id while the id is among the last {@value #REMEMBERED} remembered.
 */
final class DriftReports {
    private static final Logger LOG = LoggerFactory.getLogger(DriftReports.class);
    static final String ACTION = "workload.drift";
    static final int REMEMBERED = 10_000;
    static final int MAX_IDS = 100;
    static final int MAX_SELECTORS = 512;
    private static final Pattern REPORT_ID = Pattern.compile("[A-Za-z0-9_-]{1,128}");

    private final AuthorizedEntries authorized;
    private final AuditTrail audit;
    private final DriftListener listener;
    private final CredentialHoldings holdings;
    private final Clock clock;
    private final Map<String, String> remembered = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > REMEMBERED;
        }
    };

    DriftReports(AuthorizedEntries authorized, AuditTrail audit, DriftListener listener, Clock clock) {
        this(authorized, audit, listener, CredentialHoldings.ANY, clock);
    }

    DriftReports(AuthorizedEntries authorized, AuditTrail audit, DriftListener listener, CredentialHoldings holdings, Clock clock) {
        this.authorized = authorized;
        this.audit = audit;
        this.listener = listener;
        this.holdings = holdings;
        this.clock = clock;
    }

    DriftAck report(Agent agent, DriftReport report) {
        if (!REPORT_ID.matcher(report.getReportId()).matches()) {
            throw invalid("report_id '" + report.getReportId() + "' is invalid; use 1 to 128 of A-Z, a-z, 0-9, '-' and '_'");
        }
        String key = agent.spiffeId() + " " + report.getReportId();
        synchronized (remembered) {
            String known = remembered.get(key);
            if (known != null) {
                return DriftAck.newBuilder().setDriftId(known).build();
            }
        }
        DriftEvent.Reason reason = switch (report.getReason()) {
            case DRIFT_REASON_EXITED -> DriftEvent.Reason.EXITED;
            case DRIFT_REASON_SELECTORS_CHANGED -> DriftEvent.Reason.SELECTORS_CHANGED;
            default -> throw invalid("reason " + report.getReason() + " is invalid; use DRIFT_REASON_EXITED or DRIFT_REASON_SELECTORS_CHANGED");
        };
        if (report.getPid() <= 0) {
            throw invalid("pid " + report.getPid() + " is invalid; it must be positive");
        }
        if (report.getSpiffeIdsBeforeCount() == 0 || report.getSpiffeIdsBeforeCount() > MAX_IDS) {
            throw invalid("spiffe_ids_before has " + report.getSpiffeIdsBeforeCount() + " ids; 1 to " + MAX_IDS + " are required");
        }
        Set<SpiffeId> ids = new TreeSet<>(java.util.Comparator.comparing(SpiffeId::toString));
        for (String id : report.getSpiffeIdsBeforeList()) {
            try {
                ids.add(SpiffeId.parse(id));
            } catch (SigilException | IllegalArgumentException e) {
                throw invalid("spiffe_ids_before holds '" + id + "', which is not a spiffe id: " + e.getMessage());
            }
        }
        Set<Selector> before = selectors("selectors_before", report.getSelectorsBeforeList());
        Set<Selector> after = selectors("selectors_after", report.getSelectorsAfterList());
        if (reason == DriftEvent.Reason.EXITED && !after.isEmpty()) {
            throw invalid("an exited workload has no selectors_after; got " + after.size());
        }
        Instant observedAt = Instant.ofEpochMilli(report.getObservedAtUnixMillis());
        String actor = agent.spiffeId().toString();

        Set<SpiffeId> allowed = authorized.allFor(authorized.parentsOf(agent)).stream()
                .map(RegistrationEntry::spiffeId).collect(Collectors.toSet());
        List<SpiffeId> foreign = ids.stream().filter(id -> !allowed.contains(id)).toList();
        if (!foreign.isEmpty()) {
            // an entry deleted since its SVID was served, or an agent naming identities served elsewhere:
            // on the record, never acted on
            audit.append(AuditEvent.denied(actor, ACTION, foreign.get(0).toString(), Map.of(
                    "pid", Integer.toString(report.getPid()),
                    "report_id", report.getReportId(),
                    "reason", "spiffe ids not authorized for this agent",
                    "spiffe_ids", joined(foreign.stream().map(SpiffeId::toString).toList()))));
            if (foreign.size() == ids.size()) {
                throw Status.PERMISSION_DENIED.withDescription("drift report names " + foreign
                        + ", which agent " + agent.spiffeId() + " is not authorized to serve").asRuntimeException();
            }
            LOG.warn("drift report {} of {} names {}, which it is not authorized to serve; recording the others only",
                    report.getReportId(), agent.spiffeId(), foreign);
            ids.removeAll(foreign);
        }

        String driftId = "drift-" + UUID.randomUUID();
        if (reason == DriftEvent.Reason.EXITED) {
            // an exit matters only where the identity holds something to withdraw; a CLI run that fetched
            // an svid and ended is not a drift worth a record (a selector change always is)
            ids.removeIf(id -> !holdings.holdsLiveCredentials(id));
            if (ids.isEmpty()) {
                LOG.debug("workload pid {} of {} exited holding no live credentials; not recorded", report.getPid(), agent.spiffeId());
                synchronized (remembered) {
                    remembered.put(key, driftId);
                }
                return DriftAck.newBuilder().setDriftId(driftId).build();
            }
        }
        DriftEvent event = new DriftEvent(driftId, agent.spiffeId(), report.getPid(), ids, before, after, reason, observedAt,
                clock.instant());
        List<AuditEvent> records = new ArrayList<>();
        for (SpiffeId id : ids) {
            records.add(AuditEvent.success(actor, ACTION, id.toString(), details(event, report)));
        }
        audit.appendAll(records);
        synchronized (remembered) {
            remembered.put(key, driftId);
        }
        LOG.info("workload drift {} reported by {}: pid {} {}, identities {}", driftId, agent.spiffeId(), report.getPid(),
                reason.wireName(), ids);
        try {
            listener.onDrift(event);
        } catch (RuntimeException e) {
            LOG.error("drift listener failed for {}: {}", driftId, e.toString(), e);
        }
        return DriftAck.newBuilder().setDriftId(driftId).build();
    }

    private static Map<String, String> details(DriftEvent event, DriftReport report) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("drift_id", event.driftId());
        details.put("report_id", report.getReportId());
        details.put("agent", event.agentId().toString());
        details.put("pid", Integer.toString(event.pid()));
        details.put("process_start_time", Long.toString(report.getProcessStartTime()));
        details.put("reason", event.reason().wireName());
        details.put("benign", Boolean.toString(event.reason() == DriftEvent.Reason.EXITED));
        details.put("spiffe_ids", joined(event.spiffeIds().stream().map(SpiffeId::toString).toList()));
        details.put("selectors_before", joined(strings(event.selectorsBefore())));
        details.put("selectors_after", joined(strings(event.selectorsAfter())));
        Set<Selector> removed = new TreeSet<>(event.selectorsBefore());
        removed.removeAll(event.selectorsAfter());
        Set<Selector> added = new TreeSet<>(event.selectorsAfter());
        added.removeAll(event.selectorsBefore());
        if (event.reason() == DriftEvent.Reason.SELECTORS_CHANGED) {
            details.put("selectors_removed", joined(strings(removed)));
            details.put("selectors_added", joined(strings(added)));
        }
        details.put("observed_at", event.observedAt().toString());
        return details;
    }

    private static List<String> strings(Collection<Selector> selectors) {
        return selectors.stream().sorted().map(Selector::toString).toList();
    }

    /** Comma-joined, cut to fit an audit detail with a count of what was left out. */
    static String joined(List<String> values) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < values.size(); i++) {
            String next = (i == 0 ? "" : ",") + values.get(i);
            if (out.length() + next.length() > AuditEvent.MAX_DETAIL_LENGTH - 32) {
                return out.append(",...(+").append(values.size() - i).append(" more)").toString();
            }
            out.append(next);
        }
        return out.toString();
    }

    private static Set<Selector> selectors(String field, List<dev.sigil.proto.agent.v1.Selector> list) {
        if (list.size() > MAX_SELECTORS) {
            throw invalid(field + " has " + list.size() + " selectors; at most " + MAX_SELECTORS);
        }
        Set<Selector> selectors = new TreeSet<>();
        for (dev.sigil.proto.agent.v1.Selector selector : list) {
            try {
                selectors.add(Selector.of(selector.getType(), selector.getValue()));
            } catch (SigilException | IllegalArgumentException e) {
                throw invalid(field + " holds an invalid selector: " + e.getMessage());
            }
        }
        return selectors;
    }

    private static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }
}
