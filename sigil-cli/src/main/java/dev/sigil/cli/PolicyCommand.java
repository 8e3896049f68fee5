package dev.sigil.cli;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.sigil.server.policy.CompiledPolicy;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.policy.PolicyDocumentException;
import dev.sigil.server.policy.PolicyRequestJson;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code sigil policy apply|list|test}: puts a policy document in force, shows the one in force, and
 * checks a policy against fixtures locally (no server) with the server's own engine.
 */
@Command(name = "policy", description = "Works with the authorization policy.",
        subcommands = {PolicyCommand.Apply.class, PolicyCommand.Show.class, PolicyCommand.Test.class})
final class PolicyCommand extends GroupCommand {

    @Command(name = "apply", description = "Validates and applies a policy document (PUT /v1/policy).")
    static final class Apply extends ClientCommand {
        @Parameters(paramLabel = "FILE", description = "The policy document (YAML).")
        Path file;

        Apply(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            String yaml = readText(file);
            JsonNode json = client.put("/v1/policy", Map.of("yaml", yaml)).json();
            print(json, j -> out.println("policy version " + j.path("version").asText() + " applied: "
                    + j.path("rules").asText() + " rules"));
            return 0;
        }
    }

    @Command(name = "list", description = "Shows the policy in force: its version and rules (GET /v1/policy).")
    static final class Show extends ClientCommand {
        Show(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            JsonNode json = client.get("/v1/policy").json();
            print(json, j -> {
                out.println("policy version " + j.path("version").asText("0")
                        + (j.path("version").asLong(0) == 0 ? " (none applied: everything is denied)" : ""));
                j.path("rules").forEach(rule -> out.println("  " + rule.asText()));
            });
            return 0;
        }
    }

    /**
     * Fixtures, like {@code opa test}: every {@code *.yaml} in DIR holds {@code policy:} (a file path
     * relative to the fixture, a block of YAML text, or the document inline) and {@code cases:}, each
     * {@code {name, request, expect: allow|deny, reasons_contain: [..]}}. Exit 1 when any case fails.
     */
    @Command(name = "test", description = "Evaluates policy fixtures in DIR locally; exit 1 on any failure.")
    static final class Test implements Callable<Integer> {
        private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
                .registerModule(new Jdk8Module()).registerModule(new JavaTimeModule())
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

        @Parameters(paramLabel = "DIR", description = "Directory of *.yaml fixtures.")
        Path dir;

        @picocli.CommandLine.Option(names = "--output", paramLabel = "FORMAT", defaultValue = "text",
                description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}); json is one object with "
                        + "every result, passed and failed.")
        OutputFormat output = OutputFormat.text;

        private final CliContext context;

        Test(CliContext context) {
            this.context = context;
        }

        record Fixture(JsonNode policy, java.util.List<Case> cases) {
        }

        record Case(String name, PolicyRequestJson request, String expect,
                    @com.fasterxml.jackson.annotation.JsonProperty("reasons_contain") Optional<java.util.List<String>> reasonsContain) {
        }

        @Override
        public Integer call() {
            PrintWriter out = context.out();
            java.util.List<Path> files;
            try (Stream<Path> listing = Files.list(dir)) {
                files = listing.filter(p -> p.getFileName().toString().endsWith(".yaml")).sorted().toList();
            } catch (IOException e) {
                throw new CliException("cannot list fixtures in " + dir + ": " + e.getMessage());
            }
            if (files.isEmpty()) {
                throw new CliException("no *.yaml fixtures in " + dir);
            }
            int passed = 0;
            int failed = 0;
            java.util.List<java.util.Map<String, Object>> results = new ArrayList<>();
            boolean json = output == OutputFormat.json;
            for (Path file : files) {
                Fixture fixture;
                CompiledPolicy policy;
                try {
                    fixture = YAML.readValue(file.toFile(), Fixture.class);
                    policy = CompiledPolicy.parse(policyText(file, fixture.policy()));
                } catch (IOException | PolicyDocumentException | CliException e) {
                    if (!json) {
                        out.println("FAIL " + file.getFileName() + ": " + CelCarets.render(e.getMessage()));
                    }
                    results.add(result(file, null, java.util.List.of(e.getMessage())));
                    failed++;
                    continue;
                }
                for (Case c : fixture.cases() == null ? java.util.List.<Case>of() : fixture.cases()) {
                    String label = file.getFileName() + " / " + c.name();
                    java.util.List<String> problems = check(policy, c);
                    results.add(result(file, c.name(), problems));
                    if (problems.isEmpty()) {
                        passed++;
                        if (!json) {
                            out.println("PASS " + label);
                        }
                    } else {
                        failed++;
                        if (!json) {
                            out.println("FAIL " + label + ": " + String.join("; ", problems));
                        }
                    }
                }
            }
            if (json) {
                java.util.Map<String, Object> summary = new java.util.LinkedHashMap<>();
                summary.put("passed", passed);
                summary.put("failed", failed);
                summary.put("results", results);
                Output.json(out, new ObjectMapper().valueToTree(summary));
            } else {
                out.println(passed + " passed, " + failed + " failed");
            }
            out.flush();
            return failed == 0 ? 0 : 1;
        }

        private static java.util.Map<String, Object> result(Path file, String name, java.util.List<String> problems) {
            java.util.Map<String, Object> result = new java.util.LinkedHashMap<>();
            result.put("file", file.getFileName().toString());
            if (name != null) {
                result.put("case", name);
            }
            result.put("passed", problems.isEmpty());
            result.put("problems", problems);
            return result;
        }

        private static java.util.List<String> check(CompiledPolicy policy, Case c) {
            java.util.List<String> problems = new ArrayList<>();
            if (!"allow".equals(c.expect()) && !"deny".equals(c.expect())) {
                problems.add("expect '" + c.expect() + "' is not valid; use allow or deny");
                return problems;
            }
            Decision decision;
            try {
                decision = policy.decide(c.request().toRequest(Clock.systemUTC()));
            } catch (RuntimeException e) {
                problems.add("request is invalid: " + e.getMessage());
                return problems;
            }
            String got = decision instanceof Decision.Allow ? "allow" : "deny";
            if (!got.equals(c.expect())) {
                problems.add("expected " + c.expect() + ", got " + got + " " + decision.reasons());
            }
            for (String wanted : c.reasonsContain() == null ? java.util.List.<String>of() : c.reasonsContain().orElse(java.util.List.of())) {
                if (decision.reasons().stream().noneMatch(r -> r.contains(wanted))) {
                    problems.add("no reason contains '" + wanted + "' in " + decision.reasons());
                }
            }
            return problems;
        }

        private static String policyText(Path fixture, JsonNode policy) throws IOException {
            if (policy == null || policy.isNull()) {
                throw new CliException("fixture has no 'policy:' (a file path, yaml text, or the document inline)");
            }
            if (policy.isObject()) {
                return YAML.writeValueAsString(policy);
            }
            String text = policy.asText();
            if (text.contains("\n")) {
                return text;
            }
            Path parent = fixture.toAbsolutePath().getParent();
            return readText(parent.resolve(text));
        }
    }

    static String readText(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CliException("cannot read " + file + ": " + e.getMessage());
        }
    }
}
