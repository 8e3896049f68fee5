package dev.sigil.server.governance;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The posture report: the shape of {@code GET /v1/posture} (docs/governance.md, "Posture"). Findings
 * come most severe first. {@code notEvaluated} names the checks that could not run on this data and
 * why (no owner list configured, the audit window read only in part, ...), so an empty list of findings
 * never hides a check that did not run.
 */
public record Posture(Instant generatedAt, Instant activitySince, boolean activityComplete, Map<String, Object> thresholds,
                      Map<String, Integer> summary, List<Finding> findings, List<NotEvaluated> notEvaluated) {
    public Posture {
        Objects.requireNonNull(generatedAt, "generatedAt");
        thresholds = Map.copyOf(thresholds);
        findings = List.copyOf(findings);
        notEvaluated = List.copyOf(notEvaluated);
        summary = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(summary));
    }

    /** A check that did not run, and why. */
    public record NotEvaluated(String check, Finding.Nhi nhi, String reason) {
    }

    /** Findings per severity, most severe first, every severity present. */
    static Map<String, Integer> summarize(List<Finding> findings) {
        Map<String, Integer> counts = new java.util.LinkedHashMap<>();
        for (Finding.Severity severity : Finding.Severity.values()) {
            counts.put(severity.wireName(), 0);
        }
        findings.forEach(f -> counts.merge(f.severity().wireName(), 1, Integer::sum));
        return counts;
    }
}
