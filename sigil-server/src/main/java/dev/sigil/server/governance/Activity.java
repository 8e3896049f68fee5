package dev.sigil.server.governance;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.server.audit.AuditOutcome;
import dev.sigil.server.audit.AuditQuery;
import dev.sigil.server.audit.AuditRecord;
import dev.sigil.server.audit.AuditTrail;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the audit trail says happened since {@link #since()}, per SPIFFE ID: read in one pass over the
 * records of the window, so "last served" and "last exchanged" cost nothing on the paths that serve and
 * exchange (they already write these records). {@link #complete()} is false when the pass stopped at its
 * record limit: then the newest records were not read, and nothing may be concluded from an absence.
 *
 * <p>Sources: {@code svid.*.issue} (served; its actor is the agent, an admin or the server),
 * {@code credential.grant} and {@code token.exchange} successes (exchanged; the policy rules their reasons
 * name; the task and resource they were granted under), {@code credential.renew} (renewed leases), {@code workload.drift}
 * (drift reports), {@code leak.report} (leaks).
 */
record Activity(Instant since, boolean complete, long recordsRead, Map<String, Instant> lastServed,
                Map<String, Set<String>> servedBy, Map<String, Instant> lastExchanged, Map<String, Integer> drifts,
                Set<String> usedRules, Map<String, Set<String>> usedTaskResources, Set<String> renewedLeases, List<Leak> leaks) {

    /** One leak report: who reported it, when, the holders it named and the leases it revoked. */
    record Leak(long seq, Instant at, String reportedBy, List<String> holders, List<String> leases, boolean tokenRevoked) {
        Leak {
            holders = List.copyOf(holders);
            leases = List.copyOf(leases);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern ALLOWED_BY = Pattern.compile("rule '([^']{1,200})' allowed");
    private static final int PAGE = 10_000;

    static Activity read(AuditTrail audit, Instant since, int maxRecords) {
        Map<String, Instant> lastServed = new HashMap<>();
        Map<String, Set<String>> servedBy = new HashMap<>();
        Map<String, Instant> lastExchanged = new HashMap<>();
        Map<String, Integer> drifts = new HashMap<>();
        Set<String> usedRules = new HashSet<>();
        Map<String, Set<String>> usedTaskResources = new HashMap<>();
        Set<String> renewed = new HashSet<>();
        List<Leak> leaks = new ArrayList<>();
        long read = 0;
        long after = 0;
        boolean complete = true;
        while (true) {
            int limit = (int) Math.min(PAGE, maxRecords - read);
            if (limit <= 0) {
                complete = false;
                break;
            }
            List<AuditRecord> page = audit.query(AuditQuery.all().since(since).after(after).limit(limit));
            for (AuditRecord record : page) {
                after = record.seq();
                read++;
                if (record.outcome() != AuditOutcome.SUCCESS) {
                    continue;
                }
                String action = record.action();
                String subject = record.subject();
                if (action.startsWith("svid.") && action.endsWith(".issue")) {
                    lastServed.merge(subject, record.time(), Activity::later);
                    servedBy.computeIfAbsent(subject, s -> new TreeSet<>()).add(record.actor());
                } else if (action.equals("credential.grant") || action.equals("token.exchange")) {
                    lastExchanged.merge(subject, record.time(), Activity::later);
                    Map<String, String> details = details(record);
                    Matcher rules = ALLOWED_BY.matcher(details.getOrDefault("reasons", ""));
                    while (rules.find()) {
                        usedRules.add(rules.group(1));
                    }
                    String task = details.get("task");
                    if (task != null) {
                        // as tasks name them: an audience, or a brokered resource qualified by its broker (postgresql:reports)
                        String resource = action.equals("token.exchange") ? details.getOrDefault("audience", "")
                                : details.getOrDefault("broker", "") + ":" + details.getOrDefault("resource", "");
                        usedTaskResources.computeIfAbsent(task, t -> new HashSet<>()).add(resource);
                    }
                } else if (action.equals("credential.renew")) {
                    String lease = details(record).get("lease_id");
                    if (lease != null) {
                        renewed.add(lease);
                    }
                } else if (action.equals("workload.drift")) {
                    drifts.merge(subject, 1, Integer::sum);
                } else if (action.equals("leak.report")) {
                    Map<String, String> details = details(record);
                    leaks.add(new Leak(record.seq(), record.time(), record.actor(), words(details.get("holders")),
                            words(details.get("leases")), Boolean.parseBoolean(details.get("token_revoked"))));
                }
            }
            if (page.size() < limit) {
                break;
            }
        }
        return new Activity(since, complete, read, lastServed, servedBy, lastExchanged, drifts, usedRules, usedTaskResources, renewed, leaks);
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    private static List<String> words(String text) {
        return text == null || text.isBlank() ? List.of() : List.of(text.trim().split("\\s+"));
    }

    private static Map<String, String> details(AuditRecord record) {
        try {
            return JSON.readValue(record.details(), new TypeReference<Map<String, String>>() {
            });
        } catch (java.io.IOException | RuntimeException e) {
            return Map.of();
        }
    }
}
