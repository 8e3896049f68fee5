package dev.sigil.server.policy;

import dev.sigil.core.selector.Selector;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One compiled rule. {@code order} is its position in the document; matched rules are reported in
 * document order whatever the index returned them in.
 */
record Rule(int order, int line, String name, Effect effect, SubjectPattern subject, Set<Selector> selectors,
            int minTrustLevel, List<ValuePattern> actions, List<ValuePattern> resources, TaskRequirement tasks,
            Optional<Conditions.Condition> condition, Decision.Obligations obligations) {
    enum Effect { ALLOW, DENY }

    enum TaskRequirement { REQUIRED, FORBIDDEN, ANY }

    Rule {
        Objects.requireNonNull(name, "name");
        selectors = Set.copyOf(selectors);
        actions = List.copyOf(actions);
        resources = List.copyOf(resources);
    }

    /** Everything but the CEL condition; cheap and side-effect free. */
    boolean matchesStatically(PolicyRequest request, String subjectId) {
        return request.trustLevel() >= minTrustLevel && matchesAtAnyTrustLevel(request, subjectId);
    }

    /** {@link #matchesStatically} but for {@code min_trust_level}: tells a refusal that only the level was short. */
    boolean matchesAtAnyTrustLevel(PolicyRequest request, String subjectId) {
        if (!subject.matches(subjectId) || !request.selectors().containsAll(selectors)) {
            return false;
        }
        boolean hasTask = request.task().isPresent();
        if ((tasks == TaskRequirement.REQUIRED && !hasTask) || (tasks == TaskRequirement.FORBIDDEN && hasTask)) {
            return false;
        }
        return anyMatches(actions, request.action()) && anyMatches(resources, request.resource());
    }

    private static boolean anyMatches(List<ValuePattern> patterns, String value) {
        for (ValuePattern pattern : patterns) {
            if (pattern.matches(value)) {
                return true;
            }
        }
        return false;
    }
}
