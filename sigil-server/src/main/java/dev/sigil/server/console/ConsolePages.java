package dev.sigil.server.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sigil.core.Printable;
import dev.sigil.server.admin.Actor;
import dev.sigil.server.admin.ApiException;
import dev.sigil.server.admin.ApiJson;
import dev.sigil.server.admin.BrowserFrontEnd;
import dev.sigil.server.admin.Reply;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Builds each console page from admin API answers, and runs each console action as one admin API call
 * made as the session's {@link Actor.Console}. The admin API is the only source and the only way to
 * change anything: no page reads a store, so what the console shows and does is what the CLI would.
 */
final class ConsolePages {
    private static final ObjectMapper JSON = ApiJson.newMapper();
    private static final int AUDIT_ROWS = 100;
    private static final int DRIFT_ROWS = 50;
    private static final int MAX_AUDIT = 10_000;
    /** Fixed texts for the notices after an action: a redirect names one by key, so no page reflects a request's text. */
    private static final Map<String, String> NOTICES = Map.of(
            "revoked", "Lease revocation requested; it is audited with you as the console actor.",
            "ended", "Task ended; it is audited with you as the console actor.");

    private final BrowserFrontEnd.Calls api;
    private final Actor.Console actor;
    private final Page.SignedIn session;

    ConsolePages(BrowserFrontEnd.Calls api, Actor.Console actor, Page.SignedIn session) {
        this.api = api;
        this.actor = actor;
        this.session = session;
    }

    /** What a POST led to: a redirect to a page (after a change), or a page shown at once (a dry run). */
    sealed interface Outcome {
        record Redirect(String location) implements Outcome {
        }

        record Shown(Page page) implements Outcome {
        }
    }

    Page get(String path, Map<String, String> query) {
        Optional<String> notice = Optional.ofNullable(query.get("notice")).map(NOTICES::get);
        return switch (path) {
            case "/console", "/console/" -> page("Overview", "/console/", notice, overview());
            case "/console/inventory" -> page("Identities", path, notice, inventory(query.getOrDefault("q", "")));
            case "/console/agents" -> page("Agents", path, notice, agents());
            case "/console/leases" -> page("Live credentials and leases", path, notice, leases(query.getOrDefault("state", "")));
            case "/console/tasks" -> page("Tasks", path, notice, tasks());
            case "/console/drift" -> page("Drift timeline", path, notice, drift());
            case "/console/audit" -> page("Audit trail", path, notice, audit(query));
            case "/console/policy" -> page("Policy", path, notice, policy(Optional.empty(), Map.of()));
            case "/console/posture" -> page("Posture findings", path, notice, posture());
            default -> throw ApiException.notFound("no console page " + Printable.clip(path) + "; the pages are "
                    + Page.NAV.stream().map(Page.Link::path).toList());
        };
    }

    Outcome post(String path, Map<String, String> form) {
        return switch (path) {
            case "/console/leases/revoke" -> {
                ObjectNode body = JSON.createObjectNode().put("id", required(form, "id"));
                call("POST", "/v1/leases/revoke", Map.of(), body);
                yield new Outcome.Redirect("/console/leases?notice=revoked");
            }
            case "/console/tasks/end" -> {
                String id = required(form, "id");
                if (!id.matches("[A-Za-z0-9_.:-]{1,128}")) {
                    throw ApiException.invalidArgument("task id '" + Printable.clip(id) + "' is malformed");
                }
                call("POST", "/v1/tasks/" + id + "/end", Map.of(), null);
                yield new Outcome.Redirect("/console/tasks?notice=ended");
            }
            case "/console/policy/decide" -> new Outcome.Shown(page("Policy", "/console/policy", Optional.empty(),
                    policy(Optional.of(decide(form)), form)));
            default -> throw ApiException.notFound("no console action " + Printable.clip(path));
        };
    }

    private Page page(String title, String path, Optional<String> notice, List<Page.Section> sections) {
        return new Page(title, path, Optional.of(session), notice, sections);
    }

    private List<Page.Section> overview() {
        JsonNode inventory = read("/v1/inventory", Map.of());
        JsonNode posture = read("/v1/posture", Map.of());
        JsonNode leases = read("/v1/leases", Map.of("state", "active", "limit", "1000"));
        JsonNode tasks = read("/v1/tasks", Map.of("limit", "1000"));
        long activeTasks = stream(tasks.path("tasks")).filter(t -> t.path("state").asText().equals("active")).count();
        JsonNode summary = posture.path("summary");
        List<Page.Section> sections = new ArrayList<>();
        sections.add(new Page.Facts("Counts", List.of(
                new Page.Fact("identities", "Identities", String.valueOf(inventory.path("identities").size())),
                new Page.Fact("agents", "Agents", String.valueOf(inventory.path("agents").size())),
                new Page.Fact("active-leases", "Active leases", leases.path("leases").size() + (leases.path("leases").size() >= 1000 ? "+" : "")),
                new Page.Fact("active-tasks", "Active tasks", String.valueOf(activeTasks)))));
        sections.add(new Page.Facts("Posture", List.of(
                new Page.Fact("posture-score", "Score (100 = no findings)", String.valueOf(score(summary))),
                new Page.Fact("critical", "Critical", summary.path("critical").asText("0")),
                new Page.Fact("high", "High", summary.path("high").asText("0")),
                new Page.Fact("medium", "Medium", summary.path("medium").asText("0")),
                new Page.Fact("low", "Low", summary.path("low").asText("0")))));
        sections.add(driftTable(5, "Recent drift"));
        return sections;
    }

    /** 100 less 25 per critical, 10 per high, 3 per medium and 1 per low finding, never below 0. */
    static int score(JsonNode summary) {
        int lost = 25 * summary.path("critical").asInt() + 10 * summary.path("high").asInt() + 3 * summary.path("medium").asInt()
                + summary.path("low").asInt();
        return Math.max(0, 100 - lost);
    }

    private List<Page.Section> inventory(String search) {
        JsonNode inventory = read("/v1/inventory", Map.of());
        String needle = search.trim().toLowerCase(Locale.ROOT);
        List<Page.Row> rows = new ArrayList<>();
        for (JsonNode identity : inventory.path("identities")) {
            List<String> cells = List.of(identity.path("spiffe_id").asText(), identity.path("owner").asText(), identity.path("parent_id").asText(),
                    cell(identity.path("selectors")), cell(identity.path("last_served")), String.valueOf(identity.path("credentials").size()),
                    identity.path("drift_count").asText());
            if (needle.isEmpty() || String.join(" ", cells).toLowerCase(Locale.ROOT).contains(needle)) {
                rows.add(new Page.Row(cells, List.of()));
            }
        }
        return List.of(
                new Page.Form("search", "Search", "/console/inventory", "get",
                        List.of(new Page.Field("q", "SPIFFE ID, owner or selector contains", search, "spiffe://example.org/billing")), "Search"),
                new Page.Table("identities", rows.size() + " identities", List.of("SPIFFE ID", "Owner", "Parent", "Selectors", "Last served",
                        "Live credentials", "Drift reports"), rows, needle.isEmpty() ? "No identities are registered." : "No identity matches."));
    }

    private List<Page.Section> agents() {
        List<Page.Row> rows = new ArrayList<>();
        for (JsonNode agent : read("/v1/agents", Map.of()).path("agents")) {
            rows.add(new Page.Row(List.of(agent.path("spiffe_id").asText(), agent.path("attestor_type").asText(), agent.path("trust_level").asText(),
                    cell(agent.path("selectors")), agent.path("last_attested_at").asText(), agent.path("svid_expires_at").asText(),
                    agent.path("banned").asBoolean() ? "banned" : ""), List.of()));
        }
        return List.of(new Page.Table("agents", rows.size() + " agents", List.of("SPIFFE ID", "Attestor", "Trust level", "Selectors",
                "Last attested", "SVID expires", "Banned"), rows, "No agent has attested."));
    }

    private List<Page.Section> leases(String state) {
        Map<String, String> query = new LinkedHashMap<>();
        query.put("limit", "1000");
        if (!state.isEmpty()) {
            query.put("state", state);
        }
        List<Page.Row> rows = new ArrayList<>();
        for (JsonNode lease : read("/v1/leases", query).path("leases")) {
            String id = lease.path("id").asText();
            String leaseState = lease.path("state").asText();
            List<Page.Action> actions = leaseState.equals("active") || leaseState.equals("pending")
                    ? List.of(new Page.Action("/console/leases/revoke", "Revoke", Map.of("id", id), "Revoke lease " + Printable.clip(id, 80) + " now?"))
                    : List.of();
            rows.add(new Page.Row(List.of(id, lease.path("broker").asText(), lease.path("holder").asText(), lease.path("resource").asText(),
                    leaseState, lease.path("task").asText(""), lease.path("expires_at").asText()), actions));
        }
        return List.of(
                new Page.Form("filter", "Filter", "/console/leases", "get",
                        List.of(new Page.Field("state", "State (pending, active, revoking, revoked, expired)", state, "active")), "Show"),
                new Page.Table("leases", rows.size() + " leases", List.of("Lease", "Broker", "Holder", "Resource", "State", "Task", "Expires"),
                        rows, "No leases."));
    }

    private List<Page.Section> tasks() {
        List<Page.Row> rows = new ArrayList<>();
        for (JsonNode task : read("/v1/tasks", Map.of("limit", "1000")).path("tasks")) {
            String id = task.path("id").asText();
            List<Page.Action> actions = task.path("state").asText().equals("active")
                    ? List.of(new Page.Action("/console/tasks/end", "End", Map.of("id", id), "End task " + Printable.clip(id, 80) + " now?"))
                    : List.of();
            rows.add(new Page.Row(List.of(id, task.path("owner").asText(), task.path("holder").asText(), task.path("purpose").asText(),
                    cell(task.path("allowed")), task.path("state").asText(), task.path("expires_at").asText()), actions));
        }
        return List.of(new Page.Table("tasks", rows.size() + " tasks", List.of("Task", "Owner", "Holder", "Purpose", "Allowed", "State", "Expires"),
                rows, "No tasks."));
    }

    private List<Page.Section> drift() {
        return List.of(driftTable(DRIFT_ROWS, "Newest first"));
    }

    private Page.Table driftTable(int count, String heading) {
        List<JsonNode> records = newest(read("/v1/audit", Map.of("kind", "drift", "limit", String.valueOf(MAX_AUDIT))).path("results"), count);
        List<Page.Row> rows = records.stream().map(r -> new Page.Row(List.of(r.path("time").asText(), r.path("subject").asText(),
                r.path("outcome").asText(), r.path("details").asText()), List.of())).toList();
        return new Page.Table("drift", heading, List.of("Time", "Identity", "Outcome", "Details"), rows, "No drift has been reported.");
    }

    private List<Page.Section> audit(Map<String, String> form) {
        JsonNode verify = call("POST", "/v1/audit/verify", Map.of(), JSON.createObjectNode());
        boolean intact = verify.path("intact").asBoolean();
        Page.Text chain = intact
                ? new Page.Text("chain", "Hash chain", "Verified: all " + verify.path("records").asText() + " records chain up to head "
                        + Printable.clip(verify.path("head").asText(), 16), false, "ok")
                : new Page.Text("chain", "Hash chain", "BROKEN at record " + verify.path("first_bad_sequence").asText() + ": "
                        + verify.path("reason").asText(), false, "bad");
        String workload = form.getOrDefault("workload", "").trim();
        String action = form.getOrDefault("action", "").trim();
        Map<String, String> query = new LinkedHashMap<>();
        if (!workload.isEmpty()) {
            query.put("workload", workload);
        }
        if (!action.isEmpty()) {
            query.put("action", action);
        }
        if (query.isEmpty() && intact) {
            // the newest records: the chain's length is known from the verification
            query.put("after", String.valueOf(Math.max(0, verify.path("records").asLong() - AUDIT_ROWS)));
        }
        query.put("limit", String.valueOf(MAX_AUDIT));
        List<Page.Row> rows = newest(read("/v1/audit", query).path("results"), AUDIT_ROWS).stream()
                .map(r -> new Page.Row(List.of(r.path("seq").asText(), r.path("time").asText(), r.path("actor").asText(), r.path("action").asText(),
                        r.path("subject").asText(), r.path("outcome").asText(), r.path("details").asText()), List.of())).toList();
        return List.of(chain,
                new Page.Form("search", "Search", "/console/audit", "get", List.of(
                        new Page.Field("workload", "Workload (SPIFFE ID)", workload, "spiffe://example.org/billing"),
                        new Page.Field("action", "Action or prefix", action, "credential.revoke")), "Search"),
                new Page.Table("records", "Newest " + AUDIT_ROWS + " matching records, newest first", List.of("Seq", "Time", "Actor", "Action",
                        "Subject", "Outcome", "Details"), rows, "No records match."));
    }

    private List<Page.Section> policy(Optional<Page.Text> decision, Map<String, String> form) {
        JsonNode policy = read("/v1/policy", Map.of());
        List<Page.Row> versions = newest(read("/v1/audit", Map.of("action", "policy.apply", "limit", String.valueOf(MAX_AUDIT))).path("results"), 20)
                .stream().map(r -> new Page.Row(List.of(r.path("time").asText(), r.path("actor").asText(), r.path("details").asText()), List.of()))
                .toList();
        List<Page.Section> sections = new ArrayList<>();
        sections.add(new Page.Facts("Current document", List.of(new Page.Fact("policy-version", "Version", policy.path("version").asText()),
                new Page.Fact("policy-rules", "Rules", cell(policy.path("rules"))))));
        sections.add(new Page.Form("decide", "Would this be allowed? (dry run, changes nothing)", "/console/policy/decide", "post", List.of(
                new Page.Field("subject", "Subject (SPIFFE ID)", form.get("subject"), "spiffe://example.org/billing"),
                new Page.Field("action", "Action", form.get("action"), "read"),
                new Page.Field("resource", "Resource", form.get("resource"), "postgresql:reports"),
                new Page.Field("selectors", "Selectors (comma-separated type:value)", form.get("selectors"), "unix:uid:1000")), "Decide"));
        decision.ifPresent(sections::add);
        sections.add(new Page.Table("versions", "Applied versions, newest first", List.of("Applied", "By", "Details"), versions,
                "No policy was applied through the admin api."));
        sections.add(new Page.Text("document", "Document (version " + policy.path("version").asText() + ")",
                policy.path("yaml").asText("").isEmpty() ? "(none applied)" : policy.path("yaml").asText(), true, "info"));
        return sections;
    }

    private Page.Text decide(Map<String, String> form) {
        ObjectNode body = JSON.createObjectNode()
                .put("subject", required(form, "subject"))
                .put("action", required(form, "action"))
                .put("resource", required(form, "resource"));
        String selectors = form.getOrDefault("selectors", "").trim();
        if (!selectors.isEmpty()) {
            var array = body.putArray("selectors");
            Arrays.stream(selectors.split(",")).map(String::trim).filter(s -> !s.isEmpty()).forEach(array::add);
        }
        JsonNode answer = call("POST", "/v1/policy/decide", Map.of(), body);
        String verdict = answer.path("decision").asText();
        return new Page.Text("decision", "Decision", verdict + ": " + cell(answer.path("reasons")), false,
                verdict.equals("allow") ? "ok" : "bad");
    }

    private List<Page.Section> posture() {
        JsonNode posture = read("/v1/posture", Map.of());
        List<Page.Row> rows = new ArrayList<>();
        for (JsonNode finding : posture.path("findings")) {
            rows.add(new Page.Row(List.of(finding.path("severity").asText(), finding.path("nhi").asText(), finding.path("check").asText(),
                    finding.path("title").asText(), cell(finding.path("identities")), finding.path("detail").asText(), finding.path("fix").asText()),
                    List.of()));
        }
        return List.of(new Page.Facts("Summary", List.of(new Page.Fact("posture-score", "Score (100 = no findings)",
                        String.valueOf(score(posture.path("summary")))), new Page.Fact("generated", "Generated", posture.path("generated_at").asText()))),
                new Page.Table("findings", rows.size() + " findings", List.of("Severity", "NHI", "Check", "Finding", "Identities", "Detail", "Fix"),
                        rows, "No findings."));
    }

    static Page signIn() {
        return new Page("Sign in with sigil console", "/console/", Optional.empty(), Optional.empty(), List.of(new Page.Text("how", "",
                "This console needs a session. On the server's host, run 'sigil console' as an admin: it prints a one-time login link "
                        + "valid for 60 seconds. Remotely, call POST /v1/console/login over the mutual-TLS admin listener.", false, "info")));
    }

    static Page signedOut() {
        return new Page("Signed out", "/console/", Optional.empty(), Optional.empty(), List.of(new Page.Text("how", "",
                "Your console session has ended. Run 'sigil console' again for a new login link.", false, "info")));
    }

    static Page badCode() {
        return new Page("Login link not valid", "/console/", Optional.empty(), Optional.empty(), List.of(new Page.Text("how", "",
                "This login link is unknown, already used or older than 60 seconds. Run 'sigil console' again for a new one.", false, "bad")));
    }

    static Page error(int status, String message, Optional<Page.SignedIn> session) {
        return new Page("Error " + status, "", session, Optional.empty(), List.of(new Page.Text("error", "", message, false, "bad")));
    }

    private JsonNode read(String path, Map<String, String> query) {
        Map<String, List<String>> multi = new LinkedHashMap<>();
        query.forEach((k, v) -> multi.put(k, List.of(v)));
        return tree(api.call("GET", path, multi, new byte[0], actor));
    }

    private JsonNode call(String method, String path, Map<String, List<String>> query, JsonNode body) {
        byte[] bytes;
        try {
            bytes = body == null ? new byte[0] : JSON.writeValueAsBytes(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write a console request body", e);
        }
        return tree(api.call(method, path, query, bytes, actor));
    }

    private static JsonNode tree(Reply reply) {
        return reply.body().map(body -> (JsonNode) JSON.valueToTree(body)).orElse(JSON.createObjectNode());
    }

    private static String required(Map<String, String> form, String name) {
        String value = form.getOrDefault(name, "").trim();
        if (value.isEmpty()) {
            throw ApiException.invalidArgument("form field '" + name + "' is empty; fill it in and send again");
        }
        return value;
    }

    /** The last {@code count} elements of an oldest-first array, newest first. */
    private static List<JsonNode> newest(JsonNode array, int count) {
        List<JsonNode> all = new ArrayList<>();
        array.forEach(all::add);
        List<JsonNode> tail = new ArrayList<>(all.subList(Math.max(0, all.size() - count), all.size()));
        Collections.reverse(tail);
        return tail;
    }

    private static java.util.stream.Stream<JsonNode> stream(JsonNode array) {
        List<JsonNode> all = new ArrayList<>();
        array.forEach(all::add);
        return all.stream();
    }

    /** A value as one line: arrays joined with ", ", objects as "type:value" or compact JSON, null as "". */
    private static String cell(JsonNode node) {
        if (node == null || node.isMissingNode() || node.isNull()) {
            return "";
        }
        if (node.isArray()) {
            List<String> parts = new ArrayList<>();
            node.forEach(element -> parts.add(cell(element)));
            return String.join(", ", parts);
        }
        if (node.isObject()) {
            if (node.has("type") && node.has("value") && node.size() == 2) {
                return node.path("type").asText() + ":" + node.path("value").asText();
            }
            return node.toString();
        }
        return node.asText();
    }
}
