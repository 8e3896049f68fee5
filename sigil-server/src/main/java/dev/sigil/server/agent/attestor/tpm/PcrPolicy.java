package dev.sigil.server.agent.attestor.tpm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One named golden set: for each PCR it constrains, the SHA-256 values allowed (lower-case hex). A node
 * meets the policy when every constrained PCR holds one of its allowed values; PCRs it does not name
 * are unconstrained.
 */
record PcrPolicy(String name, SortedMap<Integer, Set<String>> allowed) {
    PcrPolicy {
        allowed = new TreeMap<>(allowed);
    }

    /** Why {@code values} do not meet this policy, or empty when they do. */
    Optional<String> mismatch(Map<Integer, String> values) {
        List<String> problems = new ArrayList<>();
        allowed.forEach((pcr, accepted) -> {
            String value = values.get(pcr);
            if (value == null) {
                problems.add("pcr " + pcr + " was not quoted");
            } else if (!accepted.contains(value)) {
                problems.add("pcr " + pcr + " is " + value + ", allowed " + accepted.stream().sorted().toList());
            }
        });
        return problems.isEmpty() ? Optional.empty() : Optional.of("policy '" + name + "': " + String.join("; ", problems));
    }
}
