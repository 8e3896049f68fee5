package dev.sigil.server.policy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An immutable, validated policy and its evaluation. Rules are indexed by action (exact actions, then
 * the rules whose actions are patterns), and within an action by subject: exact SPIFFE IDs in a hash
 * map, prefixes by their base (looked up at each '/' of the subject), globs in a short list. A decision
 * therefore only looks at rules that could match the request's action and subject.
 *
 * <p>Semantics: default deny; any matching deny rule wins over every allow; a condition that fails to
 * evaluate makes its allow rule not match and its deny rule match (fail closed), and the reasons say so.
 */
public final class CompiledPolicy implements PolicyEngine {
    private static final CompiledPolicy EMPTY = new CompiledPolicy(List.of());

    private final List<Rule> rules;
    private final Map<String, SubjectIndex> byExactAction = new HashMap<>();
    private final SubjectIndex patternActions = new SubjectIndex();

    private CompiledPolicy(List<Rule> rules) {
        this.rules = List.copyOf(rules);
        for (Rule rule : this.rules) {
            Set<String> exactActions = new HashSet<>();
            boolean anyPattern = false;
            for (ValuePattern action : rule.actions()) {
                if (action.text().endsWith("*")) {
                    anyPattern = true;
                } else {
                    exactActions.add(action.text());
                }
            }
            if (anyPattern) {
                patternActions.add(rule);
            } else {
                for (String action : exactActions) {
                    byExactAction.computeIfAbsent(action, a -> new SubjectIndex()).add(rule);
                }
            }
        }
    }

    /** A policy with no rules: denies everything. */
    public static CompiledPolicy empty() {
        return EMPTY;
    }

    /**
     * Compiles a policy document (see docs/policy.md).
     *
     * @throws PolicyDocumentException with the line and reason of the first problem found
     */
    public static CompiledPolicy parse(String yaml) {
        return new CompiledPolicy(PolicyParser.parse(yaml));
    }

    public int ruleCount() {
        return rules.size();
    }

    /** The rules in document order, as read-only views (for reports over the policy). */
    public List<RuleView> rules() {
        return rules.stream().map(RuleView::of).toList();
    }

    /** Names of the rules in document order with their effect, for listings. */
    public List<String> describeRules() {
        return rules.stream().map(r -> r.name() + " (" + r.effect().name().toLowerCase(java.util.Locale.ROOT)
                + ", line " + r.line() + ")").toList();
    }

    @Override
    public Decision decide(PolicyRequest request) {
        String subjectId = request.subject().toString();
        List<Rule> candidates = new ArrayList<>();
        SubjectIndex exact = byExactAction.get(request.action());
        if (exact != null) {
            exact.collect(subjectId, candidates);
        }
        patternActions.collect(subjectId, candidates);
        if (candidates.size() > 1) {
            candidates.sort(Comparator.comparingInt(Rule::order));
        }

        List<String> allowReasons = new ArrayList<>();
        List<String> denyReasons = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        List<Decision.Obligations> obligations = new ArrayList<>();
        Map<String, Object> activation = null;
        int lastOrder = -1;
        for (Rule rule : candidates) {
            if (rule.order() == lastOrder) {
                continue;
            }
            if (!rule.matchesStatically(request, subjectId)) {
                if (rule.effect() == Rule.Effect.ALLOW && rule.matchesAtAnyTrustLevel(request, subjectId)) {
                    lastOrder = rule.order();
                    notes.add("rule '" + rule.name() + "' (line " + rule.line() + ") asks min_trust_level " + rule.minTrustLevel()
                            + "; subject " + subjectId + " has trust level " + request.trustLevel());
                }
                continue;
            }
            lastOrder = rule.order();
            String why = "subject " + subjectId + " matched " + rule.subject().text() + ", action " + request.action()
                    + ", resource " + request.resource();
            boolean isAllow = rule.effect() == Rule.Effect.ALLOW;
            if (rule.condition().isPresent()) {
                if (activation == null) {
                    activation = Conditions.activation(request);
                }
                boolean holds;
                try {
                    holds = rule.condition().get().evaluate(activation);
                } catch (Exception e) {
                    String failure = "condition failed to evaluate (" + e.getMessage() + ")";
                    if (isAllow) {
                        notes.add("rule '" + rule.name() + "' " + failure + "; counted as no match for an allow rule");
                    } else {
                        denyReasons.add("rule '" + rule.name() + "' denied: " + why + "; " + failure
                                + ", counted as a match for a deny rule");
                    }
                    continue;
                }
                if (!holds) {
                    continue;
                }
                why = why + ", condition held";
            }
            if (isAllow) {
                allowReasons.add("rule '" + rule.name() + "' allowed: " + why);
                obligations.add(rule.obligations());
            } else {
                denyReasons.add("rule '" + rule.name() + "' denied: " + why);
            }
        }

        if (!denyReasons.isEmpty()) {
            List<String> reasons = new ArrayList<>(denyReasons);
            if (!allowReasons.isEmpty()) {
                reasons.add("deny overrides " + allowReasons.size() + " matching allow rule(s)");
                reasons.addAll(allowReasons);
            }
            reasons.addAll(notes);
            return new Decision.Deny(reasons);
        }
        if (allowReasons.isEmpty()) {
            List<String> reasons = new ArrayList<>();
            reasons.add("no allow rule matched subject " + subjectId + ", action " + request.action() + ", resource "
                    + request.resource() + " (default deny)");
            reasons.addAll(notes);
            return new Decision.Deny(reasons);
        }
        List<String> reasons = new ArrayList<>(allowReasons);
        reasons.addAll(notes);
        Set<String> commands = new java.util.TreeSet<>();
        obligations.forEach(o -> o.forceCommand().ifPresent(commands::add));
        if (commands.size() > 1) {
            // No credential can force two commands: the strictest combination is no credential.
            reasons.add(0, "matching allow rules oblige different force_command values " + commands
                    + "; no credential can satisfy them all");
            return new Decision.Deny(reasons);
        }
        return new Decision.Allow(reasons, strictest(obligations));
    }

    /**
     * Shortest TTL, intersection of the scope sets named (none when no rule names scopes) and of SSH principal sets, mTLS if any rule requires it,
     * the source addresses inside every rule's list, and the one force command (the caller denies when
     * rules oblige different ones).
     */
    static Decision.Obligations strictest(List<Decision.Obligations> all) {
        Optional<Duration> ttl = Optional.empty();
        Optional<Set<String>> scopes = Optional.empty();
        boolean mtls = false;
        Optional<Set<String>> principals = Optional.empty();
        Optional<List<String>> addresses = Optional.empty();
        Optional<String> command = Optional.empty();
        for (Decision.Obligations o : all) {
            if (o.maxTtl().isPresent() && (ttl.isEmpty() || o.maxTtl().get().compareTo(ttl.get()) < 0)) {
                ttl = o.maxTtl();
            }
            scopes = intersect(scopes, o.allowedScopes());
            mtls |= o.requireMutualTls();
            principals = intersect(principals, o.sshPrincipals());
            if (o.sourceAddresses().isPresent()) {
                addresses = Optional.of(addresses.isEmpty() ? o.sourceAddresses().get()
                        : SourceAddresses.intersect(addresses.get(), o.sourceAddresses().get()));
            }
            command = command.or(o::forceCommand);
        }
        // Scopes fail closed: the rules that name scopes intersect, and when no matching rule names any,
        // the decision grants none (never whatever scopes the client asks for)
        return new Decision.Obligations(ttl, scopes.or(() -> Optional.of(Set.of())), mtls, principals, addresses, command);
    }

    private static Optional<Set<String>> intersect(Optional<Set<String>> sofar, Optional<Set<String>> next) {
        if (next.isEmpty()) {
            return sofar;
        }
        if (sofar.isEmpty()) {
            return next;
        }
        Set<String> both = new HashSet<>(sofar.get());
        both.retainAll(next.get());
        return Optional.of(both);
    }

    /** Rules of one action bucket by subject pattern kind. */
    private static final class SubjectIndex {
        private final Map<String, List<Rule>> exact = new HashMap<>();
        private final Map<String, List<Rule>> prefixes = new HashMap<>();
        private final List<Rule> globs = new ArrayList<>();

        void add(Rule rule) {
            switch (rule.subject()) {
                case SubjectPattern.Exact e -> exact.computeIfAbsent(e.text(), k -> new ArrayList<>()).add(rule);
                case SubjectPattern.Prefix p -> prefixes.computeIfAbsent(p.base(), k -> new ArrayList<>()).add(rule);
                case SubjectPattern.Glob g -> globs.add(rule);
            }
        }

        void collect(String subjectId, List<Rule> into) {
            List<Rule> hits = exact.get(subjectId);
            if (hits != null) {
                into.addAll(hits);
            }
            if (!prefixes.isEmpty()) {
                // Every proper prefix of the ID that ends in '/' after the scheme's "spiffe://".
                for (int i = subjectId.indexOf('/', 9); i >= 0 && i < subjectId.length() - 1;
                     i = subjectId.indexOf('/', i + 1)) {
                    List<Rule> below = prefixes.get(subjectId.substring(0, i + 1));
                    if (below != null) {
                        into.addAll(below);
                    }
                }
            }
            into.addAll(globs);
        }
    }
}
