package dev.sigil.server.metrics;

import dev.sigil.server.agent.DriftEvent;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditOutcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns recorded audit events into counters. Every label value comes from a fixed set (the event's
 * action and outcome are written by Sigil's code; OAuth error codes, drift reasons and attestor
 * types are checked against their sets and counted as {@code other} otherwise); subjects, actors and
 * free-text details (SPIFFE IDs, descriptions, hashes) are never used.
 */
final class AuditMeters {
    /** The OAuth error codes an exchange can be refused with (RFC 6749, 8693, 8707). */
    static final Set<String> EXCHANGE_REASONS = Set.of("access_denied", "invalid_target", "invalid_scope", "invalid_grant",
            "invalid_request", "invalid_client", "unauthorized_client", "unsupported_grant_type", "temporarily_unavailable",
            "server_error");
    static final Set<String> DRIFT_REASONS = Set.copyOf(Arrays.stream(DriftEvent.Reason.values()).map(DriftEvent.Reason::wireName).toList());
    static final String OTHER = "other";

    private final MeterRegistry registry;
    private final Set<String> attestorTypes;
    private final Map<List<String>, Counter> counters = new ConcurrentHashMap<>();

    AuditMeters(MeterRegistry registry, Set<String> attestorTypes) {
        this.registry = registry;
        this.attestorTypes = Set.copyOf(attestorTypes);
        // every series of a fixed set exists from the start, at zero: a rate over it is 0, not absent
        for (String type : List.of("x509", "jwt", "wit")) {
            count(0, "sigil.svids.issued", "SVIDs issued", "type", type);
        }
        for (String frontDoor : List.of("token_exchange", "credentials")) {
            count(0, "sigil.exchanges", "Grants decided for a verified subject", "front_door", frontDoor, "outcome", "allowed", "reason", "none");
            count(0, "sigil.exchanges", "Grants decided for a verified subject", "front_door", frontDoor, "outcome", "denied",
                    "reason", "access_denied");
        }
        for (String attestor : this.attestorTypes) {
            for (AuditOutcome outcome : AuditOutcome.values()) {
                count(0, "sigil.attestations", "Node attestations by attestor and outcome", "attestor", attestor, "outcome", outcome.wireName());
            }
        }
        for (String reason : DRIFT_REASONS) {
            count(0, "sigil.drift.events", "Workload drift reports accepted", "reason", reason);
        }
        for (String outcome : List.of("revoked", "failed")) {
            count(0, "sigil.lease.revocations", "Lease revocations by outcome", "outcome", outcome);
        }
    }

    void recorded(AuditEvent event) {
        String outcome = event.outcome().wireName();
        count("sigil.audit.records", "Audit records written, by action and outcome", "action", event.action(), "outcome", outcome);
        switch (event.action()) {
            case "svid.x509.issue" -> count("sigil.svids.issued", "SVIDs issued", "type", "x509");
            case "svid.jwt.issue" -> count("sigil.svids.issued", "SVIDs issued", "type", "jwt");
            case "svid.wit.issue" -> count("sigil.svids.issued", "SVIDs issued", "type", "wit");
            case "token.exchange", "credential.grant" -> count("sigil.exchanges", "Grants decided for a verified subject",
                    "front_door", event.action().equals("token.exchange") ? "token_exchange" : "credentials",
                    "outcome", exchangeOutcome(event.outcome()),
                    "reason", event.outcome() == AuditOutcome.SUCCESS ? "none" : oneOf(EXCHANGE_REASONS, event.details().get("error")));
            case "agent.attest" -> count("sigil.attestations", "Node attestations by attestor and outcome",
                    "attestor", oneOf(attestorTypes, attestor(event)), "outcome", outcome);
            case "workload.drift" -> count("sigil.drift.events", "Workload drift reports accepted",
                    "reason", oneOf(DRIFT_REASONS, event.details().get("reason")));
            case "credential.revoke" -> count("sigil.lease.revocations", "Lease revocations by outcome", "outcome", "revoked");
            case "credential.revoke_failed" -> count("sigil.lease.revocations", "Lease revocations by outcome", "outcome", "failed");
            default -> {
            }
        }
    }

    private static String exchangeOutcome(AuditOutcome outcome) {
        return switch (outcome) {
            case SUCCESS -> "allowed";
            case DENIED -> "denied";
            case FAILURE -> "failed";
        };
    }

    private static String attestor(AuditEvent event) {
        String detail = event.details().get("attestor");
        if (detail != null) {
            return detail;
        }
        return event.subject().startsWith("attestor:") ? event.subject().substring("attestor:".length()) : null;
    }

    private static String oneOf(Set<String> known, String value) {
        return value != null && known.contains(value) ? value : OTHER;
    }

    private void count(String name, String description, String... tags) {
        count(1, name, description, tags);
    }

    private void count(double amount, String name, String description, String... tags) {
        String[] key = new String[tags.length + 1];
        key[0] = name;
        System.arraycopy(tags, 0, key, 1, tags.length);
        counters.computeIfAbsent(List.of(key), k -> Counter.builder(name).description(description).tags(tags).register(registry))
                .increment(amount);
    }
}
