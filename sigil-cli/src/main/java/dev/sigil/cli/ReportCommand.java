package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sigil.core.Printable;
import java.io.PrintWriter;
import java.util.Set;
import picocli.CommandLine.Command;

/** {@code sigil report posture}: the governance posture report. */
@Command(name = "report", description = "Governance reports.", subcommands = ReportCommand.PostureReport.class)
final class ReportCommand extends GroupCommand {

    /**
     * Findings mapped to the OWASP NHI Top 10, most severe first (GET /v1/posture). {@code html} is one
     * self-contained page (no scripts, no external resources) in which every value from the server is
     * escaped, since owners, SPIFFE IDs and resources are written by others.
     */
    @Command(name = "posture", description = "Findings over identities, credentials and policy, mapped to the OWASP NHI Top 10 "
            + "(GET /v1/posture).")
    static final class PostureReport extends ClientCommand {
        PostureReport(CliContext context) {
            super(context);
        }

        @Override
        Set<OutputFormat> outputs() {
            return Set.of(OutputFormat.text, OutputFormat.json, OutputFormat.html);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            JsonNode posture = client.get("/v1/posture").json();
            switch (options.output()) {
                case json -> Output.json(out, posture);
                case html -> html(out, posture);
                default -> text(out, posture);
            }
            return 0;
        }

        private static void text(PrintWriter out, JsonNode posture) {
            JsonNode summary = posture.path("summary");
            out.println("posture at " + posture.path("generated_at").asText() + ", activity since " + posture.path("activity_since").asText()
                    + ": " + summary.path("critical").asInt() + " critical, " + summary.path("high").asInt() + " high, "
                    + summary.path("medium").asInt() + " medium, " + summary.path("low").asInt() + " low");
            for (JsonNode finding : posture.path("findings")) {
                out.println();
                out.println("[" + clean(finding, "severity").toUpperCase(java.util.Locale.ROOT) + "] " + clean(finding, "nhi") + " "
                        + clean(finding, "title") + " (" + clean(finding, "check") + ")");
                finding.path("identities").forEach(id -> out.println("  identity: " + Printable.clip(id.asText(), 300)));
                out.println("  " + clean(finding, "detail"));
                out.println("  fix: " + clean(finding, "fix"));
            }
            for (JsonNode skipped : posture.path("not_evaluated")) {
                out.println();
                out.println("not evaluated: " + clean(skipped, "check") + ": " + clean(skipped, "reason"));
            }
        }

        private static void html(PrintWriter out, JsonNode posture) {
            JsonNode summary = posture.path("summary");
            out.println("<!DOCTYPE html>");
            out.println("<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sigil posture report</title>");
            out.println("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
                    + "padding:4px 8px;vertical-align:top;text-align:left}.critical{background:#f8d0d0}.high{background:#fde2c8}"
                    + ".medium{background:#fff5c2}.low{background:#eef}</style></head><body>");
            out.println("<h1>Sigil posture report</h1>");
            out.println("<p>Generated " + esc(posture.path("generated_at").asText()) + "; activity since "
                    + esc(posture.path("activity_since").asText()) + ". " + summary.path("critical").asInt() + " critical, "
                    + summary.path("high").asInt() + " high, " + summary.path("medium").asInt() + " medium, "
                    + summary.path("low").asInt() + " low.</p>");
            out.println("<table><thead><tr><th>Severity</th><th>OWASP NHI</th><th>Finding</th><th>Identities</th><th>Detail</th>"
                    + "<th>Fix</th></tr></thead><tbody>");
            for (JsonNode finding : posture.path("findings")) {
                StringBuilder ids = new StringBuilder();
                finding.path("identities").forEach(id -> ids.append(ids.isEmpty() ? "" : "<br>").append(esc(id.asText())));
                String severity = finding.path("severity").asText();
                out.println("<tr class=\"" + (severity.matches("[a-z]{1,10}") ? severity : "") + "\"><td>" + esc(severity) + "</td><td>"
                        + esc(finding.path("nhi").asText()) + "</td><td>" + esc(finding.path("title").asText()) + "<br><code>"
                        + esc(finding.path("check").asText()) + "</code></td><td>" + ids + "</td><td>" + esc(finding.path("detail").asText())
                        + "</td><td>" + esc(finding.path("fix").asText()) + "</td></tr>");
            }
            out.println("</tbody></table>");
            if (!posture.path("not_evaluated").isEmpty()) {
                out.println("<h2>Not evaluated</h2><ul>");
                posture.path("not_evaluated").forEach(n -> out.println("<li><code>" + esc(n.path("check").asText()) + "</code>: "
                        + esc(n.path("reason").asText()) + "</li>"));
                out.println("</ul>");
            }
            out.println("</body></html>");
        }

        private static String clean(JsonNode node, String field) {
            return Printable.clip(node.path(field).asText(), 1000);
        }

        /** HTML-escaped, control characters removed. */
        static String esc(String text) {
            String printable = Printable.clip(text, 2000);
            StringBuilder out = new StringBuilder(printable.length());
            for (char c : printable.toCharArray()) {
                switch (c) {
                    case '<' -> out.append("&lt;");
                    case '>' -> out.append("&gt;");
                    case '&' -> out.append("&amp;");
                    case '"' -> out.append("&quot;");
                    case '\'' -> out.append("&#39;");
                    default -> out.append(c);
                }
            }
            return out.toString();
        }
    }
}
