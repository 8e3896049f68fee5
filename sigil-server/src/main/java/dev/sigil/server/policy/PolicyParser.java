package dev.sigil.server.policy;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.time.Durations;
import dev.sigil.server.policy.YamlTree.Mapping;
import dev.sigil.server.policy.YamlTree.Node;
import dev.sigil.server.policy.YamlTree.Scalar;
import dev.sigil.server.policy.YamlTree.Sequence;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a policy document strictly: unknown fields, wrong types, bad patterns, bad durations and CEL
 * conditions that do not compile or are not boolean are refused with the line they are on. See
 * docs/policy.md for the format.
 */
final class PolicyParser {
    private static final Set<String> TOP_FIELDS = Set.of("rules");
    private static final Set<String> RULE_FIELDS = Set.of("name", "effect", "subject", "actions", "resources", "tasks",
            "condition", "obligations");
    private static final Set<String> SUBJECT_FIELDS = Set.of("spiffe_id", "selectors", "min_trust_level");
    private static final Set<String> OBLIGATION_FIELDS = Set.of("max_ttl", "scopes", "require_mtls",
            "ssh_principals", "source_address", "force_command");
    /** What OpenSSH accepts in a principal without surprise: no separators, spaces or control characters. */
    private static final java.util.regex.Pattern PRINCIPAL = java.util.regex.Pattern.compile("[A-Za-z0-9._@+-][A-Za-z0-9._@+$-]{0,255}");

    private PolicyParser() {
    }

    static List<Rule> parse(String yaml) {
        Node root = YamlTree.parse(yaml);
        Mapping top = mapping(root, "the policy document");
        checkFields(top, TOP_FIELDS, "the policy document");
        Node rulesNode = top.fields().get("rules");
        if (rulesNode == null || rulesNode instanceof Scalar s && s.isNull()) {
            return List.of();
        }
        Sequence rules = sequence(rulesNode, "rules");
        List<Rule> parsed = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Node node : rules.items()) {
            Rule rule = rule(parsed.size(), node);
            if (!names.add(rule.name())) {
                throw new PolicyDocumentException(rule.line(), "rule name '" + rule.name()
                        + "' is used twice; rule names must be unique");
            }
            parsed.add(rule);
        }
        return parsed;
    }

    private static Rule rule(int order, Node node) {
        Mapping rule = mapping(node, "a rule");
        checkFields(rule, RULE_FIELDS, "a rule");
        String name = requiredScalar(rule, "name", "a rule");
        if (name.isBlank()) {
            throw new PolicyDocumentException(rule.line(), "rule name is blank; give each rule a unique name");
        }
        String where = "rule '" + name + "'";
        String effectText = requiredScalar(rule, "effect", where);
        Rule.Effect effect = switch (effectText) {
            case "allow" -> Rule.Effect.ALLOW;
            case "deny" -> Rule.Effect.DENY;
            default -> throw new PolicyDocumentException(line(rule, "effect"), where + ": effect '" + effectText
                    + "' is not valid; use allow or deny");
        };

        Node subjectNode = rule.fields().get("subject");
        if (subjectNode == null) {
            throw new PolicyDocumentException(rule.line(), where + ": field 'subject' is required");
        }
        Mapping subject = mapping(subjectNode, where + " subject");
        checkFields(subject, SUBJECT_FIELDS, where + " subject");
        String idText = requiredScalar(subject, "spiffe_id", where + " subject");
        SubjectPattern idPattern = parseOr(line(subject, "spiffe_id"), where, () -> SubjectPattern.parse(idText));
        Set<Selector> selectors = new LinkedHashSet<>();
        for (Scalar s : strings(subject, "selectors", where)) {
            selectors.add(parseOr(s.line(), where, () -> Selector.parse(s.text())));
        }
        int minTrust = 0;
        if (subject.fields().containsKey("min_trust_level")) {
            String text = scalar(subject.fields().get("min_trust_level"), "min_trust_level").text();
            minTrust = switch (text) {
                case "0" -> 0;
                case "1" -> 1;
                case "2" -> 2;
                case "3" -> 3;
                default -> throw new PolicyDocumentException(line(subject, "min_trust_level"), where
                        + ": min_trust_level '" + text + "' is not valid; use 0, 1, 2 or 3");
            };
        }

        List<ValuePattern> actions = patterns(rule, "actions", where);
        List<ValuePattern> resources = patterns(rule, "resources", where);

        Rule.TaskRequirement tasks = Rule.TaskRequirement.ANY;
        if (rule.fields().containsKey("tasks")) {
            String text = scalar(rule.fields().get("tasks"), "tasks").text();
            tasks = switch (text) {
                case "required" -> Rule.TaskRequirement.REQUIRED;
                case "forbidden" -> Rule.TaskRequirement.FORBIDDEN;
                case "any" -> Rule.TaskRequirement.ANY;
                default -> throw new PolicyDocumentException(line(rule, "tasks"), where + ": tasks '" + text
                        + "' is not valid; use required, forbidden or any");
            };
        }

        Optional<Conditions.Condition> condition = Optional.empty();
        if (rule.fields().containsKey("condition")) {
            Scalar source = scalar(rule.fields().get("condition"), "condition");
            condition = Optional.of(parseOr(source.line(), where, () -> Conditions.compile(source.text())));
        }

        Decision.Obligations obligations = Decision.Obligations.none();
        if (rule.fields().containsKey("obligations")) {
            if (effect == Rule.Effect.DENY) {
                throw new PolicyDocumentException(line(rule, "obligations"), where
                        + ": obligations are only valid on allow rules");
            }
            obligations = obligations(mapping(rule.fields().get("obligations"), where + " obligations"), where);
        }
        return new Rule(order, rule.line(), name, effect, idPattern, selectors, minTrust, actions, resources, tasks,
                condition, obligations);
    }

    private static Decision.Obligations obligations(Mapping node, String where) {
        checkFields(node, OBLIGATION_FIELDS, where + " obligations");
        Optional<Duration> maxTtl = Optional.empty();
        if (node.fields().containsKey("max_ttl")) {
            Scalar ttl = scalar(node.fields().get("max_ttl"), "max_ttl");
            Duration parsed = parseOr(ttl.line(), where, () -> Durations.parse(ttl.text()));
            if (parsed.isZero() || parsed.isNegative()) {
                throw new PolicyDocumentException(ttl.line(), where + ": max_ttl '" + ttl.text()
                        + "' must be positive, e.g. 5m");
            }
            maxTtl = Optional.of(parsed);
        }
        Optional<Set<String>> scopes = node.fields().containsKey("scopes")
                ? Optional.of(strings(node, "scopes", where).stream().map(Scalar::text)
                        .collect(java.util.stream.Collectors.toUnmodifiableSet()))
                : Optional.empty();
        boolean mtls = false;
        if (node.fields().containsKey("require_mtls")) {
            Scalar flag = scalar(node.fields().get("require_mtls"), "require_mtls");
            mtls = switch (flag.text()) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new PolicyDocumentException(flag.line(), where + ": require_mtls '" + flag.text()
                        + "' is not valid; use true or false");
            };
        }
        return new Decision.Obligations(maxTtl, scopes, mtls).withSsh(principals(node, where),
                sourceAddresses(node, where), forceCommand(node, where));
    }

    private static Optional<Set<String>> principals(Mapping node, String where) {
        if (!node.fields().containsKey("ssh_principals")) {
            return Optional.empty();
        }
        List<Scalar> values = strings(node, "ssh_principals", where);
        if (values.isEmpty()) {
            throw new PolicyDocumentException(line(node, "ssh_principals"), where
                    + ": ssh_principals is empty; list the user names a certificate may log in as");
        }
        Set<String> principals = new LinkedHashSet<>();
        for (Scalar value : values) {
            if (!PRINCIPAL.matcher(value.text()).matches()) {
                throw new PolicyDocumentException(value.line(), where + ": ssh principal '" + value.text()
                        + "' is not valid; use a user name of letters, digits and . _ - @ + $");
            }
            principals.add(value.text());
        }
        return Optional.of(principals);
    }

    private static Optional<List<String>> sourceAddresses(Mapping node, String where) {
        if (!node.fields().containsKey("source_address")) {
            return Optional.empty();
        }
        Scalar text = scalar(node.fields().get("source_address"), "source_address");
        return Optional.of(parseOr(text.line(), where, () -> SourceAddresses.parse(text.text())));
    }

    private static Optional<String> forceCommand(Mapping node, String where) {
        if (!node.fields().containsKey("force_command")) {
            return Optional.empty();
        }
        Scalar command = scalar(node.fields().get("force_command"), "force_command");
        if (command.text().isBlank() || command.text().chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new PolicyDocumentException(command.line(), where + ": force_command '" + command.text()
                    + "' must be a non-blank command on one line");
        }
        return Optional.of(command.text());
    }

    private static List<ValuePattern> patterns(Mapping rule, String field, String where) {
        List<Scalar> values = strings(rule, field, where);
        if (values.isEmpty()) {
            throw new PolicyDocumentException(rule.line(), where + ": field '" + field
                    + "' is required and must list at least one value ('*' for any)");
        }
        List<ValuePattern> patterns = new ArrayList<>();
        for (Scalar value : values) {
            patterns.add(parseOr(value.line(), where + " " + field, () -> new ValuePattern(value.text())));
        }
        return patterns;
    }

    private static List<Scalar> strings(Mapping parent, String field, String where) {
        Node node = parent.fields().get(field);
        if (node == null) {
            return List.of();
        }
        List<Scalar> values = new ArrayList<>();
        for (Node item : sequence(node, where + " " + field).items()) {
            values.add(scalar(item, field));
        }
        return values;
    }

    private static <T> T parseOr(int line, String where, java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (PolicyDocumentException e) {
            throw e;
        } catch (RuntimeException e) {
            // Every parser used here reports bad input as an unchecked exception naming the value.
            throw new PolicyDocumentException(line, where + ": " + e.getMessage());
        }
    }

    private static void checkFields(Mapping mapping, Set<String> allowed, String where) {
        for (Map.Entry<String, Node> field : mapping.fields().entrySet()) {
            if (!allowed.contains(field.getKey())) {
                throw new PolicyDocumentException(mapping.keyLines().get(field.getKey()), "unknown field '"
                        + field.getKey() + "' in " + where + "; valid fields are "
                        + allowed.stream().sorted().toList());
            }
        }
    }

    private static int line(Mapping mapping, String field) {
        return mapping.keyLines().getOrDefault(field, mapping.line());
    }

    private static String requiredScalar(Mapping mapping, String field, String where) {
        Node node = mapping.fields().get(field);
        if (node == null || node instanceof Scalar s && s.isNull()) {
            throw new PolicyDocumentException(mapping.line(), where + ": field '" + field + "' is required");
        }
        return scalar(node, field).text();
    }

    private static Mapping mapping(Node node, String what) {
        if (node instanceof Mapping m) {
            return m;
        }
        throw new PolicyDocumentException(node.line(), what + " must be a mapping of fields");
    }

    private static Sequence sequence(Node node, String what) {
        if (node instanceof Sequence s) {
            return s;
        }
        throw new PolicyDocumentException(node.line(), what + " must be a list");
    }

    private static Scalar scalar(Node node, String what) {
        if (node instanceof Scalar s && !s.isNull()) {
            return s;
        }
        throw new PolicyDocumentException(node.line(), "'" + what + "' must be a single value");
    }
}
