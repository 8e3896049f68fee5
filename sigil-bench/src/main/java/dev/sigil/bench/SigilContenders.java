package dev.sigil.bench;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sigil's token service started the two ways users start it, through {@code bin/sigil} (run from the
 * repository root): {@code sigil dev} as a newcomer runs it (its development policy allows
 * {@code spiffe://sigil.test/dev/<user>} to exchange for {@code https://api.example}), and
 * {@code sigil server run --config FILE} with a policy applied through {@code sigil policy apply}.
 * Subject tokens are JWT-SVIDs for the token service's audience, minted with {@code sigil jwt mint}.
 */
final class SigilContenders {
    private static final String TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
    private static final String ISSUER = "https://sigil.bench";
    private static final String SUBJECT = "spiffe://example.org/web";
    private static final String POLICY = """
            rules:
              - name: web-to-api
                effect: allow
                subject:
                  spiffe_id: %s
                actions: [token:exchange]
                resources: [https://api]
            """.formatted(SUBJECT);
    private static final Pattern TOKEN_URL = Pattern.compile("token service\\s+(https://\\S+)/oauth2/token");
    private static final Pattern IDENTITY = Pattern.compile("your identity\\s+(spiffe://\\S+)");
    private static final Pattern AUDIENCE = Pattern.compile("fetch jwt --audience (\\S+)");

    private SigilContenders() {}

    /** {@code sigil dev --data-dir dir/dev} with free ports; subject tokens for the workload it registers for this user. */
    static Contender dev(Path sigil, Path dir, int tokens, ProcessReaper reaper) throws Exception {
        Path data = dir.resolve("dev");
        Path log = dir.resolve("sigil-dev.log");
        Process process = reaper.start(ServerProcesses.command(sigil, "dev", "--data-dir", data.toString(), "--bundle-port", "0",
                "--agent-api-port", "0", "--token-port", "0").redirectErrorStream(true).redirectOutput(log.toFile()));
        String welcome = awaitLog(process, log, "Exchange your JWT-SVID");
        URI tokenUrl = URI.create(find(TOKEN_URL, welcome, log));
        String identity = find(IDENTITY, welcome, log);
        String audience = find(AUDIENCE, welcome, log);
        List<String> bodies = mint(sigil, data.resolve("server"), identity, audience, "https://api.example", tokens);
        return new Contender("sigil dev", tokenUrl, "/oauth2/token", bodies, process);
    }

    /**
     * {@code sigil server run --config dir/server.yaml} (trust domain example.org, the embedded SQLite
     * datastore with its durable defaults, audit on) with free ports, and a policy allowing the exchange.
     */
    static Contender serverRun(Path sigil, Path dir, int tokens, ProcessReaper reaper) throws Exception {
        Path config = dir.resolve("server.yaml");
        Files.writeString(config, """
                trust_domain: example.org
                log_level: warn
                jwt:
                  issuer: %s
                """.formatted(ISSUER));
        Path data = dir.resolve("server");
        int tokenPort = ServerProcesses.freePort();
        ProcessBuilder builder = ServerProcesses.command(sigil, "server", "run", "--config", config.toString(), "--data-dir",
                data.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("sigil-server.log").toFile());
        builder.environment().putAll(Map.of("SIGIL_BUNDLE_PORT", Integer.toString(ServerProcesses.freePort()), "SIGIL_AGENT_API_PORT",
                Integer.toString(ServerProcesses.freePort()), "SIGIL_TOKEN_PORT", Integer.toString(tokenPort)));
        Process process = reaper.start(builder);
        ServerProcesses.awaitHealthy(sigil, new ServerProcesses.Server(process, data, tokenPort, 0));
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, POLICY);
        ServerProcesses.cli(sigil, "policy", "apply", "--data-dir", data.toString(), policy.toString());
        List<String> bodies = mint(sigil, data, SUBJECT, ISSUER + "/oauth2/token", "https://api", tokens);
        return new Contender("sigil server run", URI.create("https://127.0.0.1:" + tokenPort), "/oauth2/token", bodies, process);
    }

    /** {@code tokens} token-exchange bodies, each with its own JWT-SVID minted by a {@code sigil jwt mint} process. */
    private static List<String> mint(Path sigil, Path serverData, String subject, String tokenAudience, String resource, int tokens)
            throws Exception {
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < tokens; i++) {
            String token = ServerProcesses.cli(sigil, "jwt", "mint", "--data-dir", serverData.toString(), "--spiffe-id", subject,
                    "--audience", tokenAudience, "--ttl", "1h").strip();
            bodies.add("grant_type=" + enc(TOKEN_EXCHANGE) + "&subject_token_type=" + enc("urn:ietf:params:oauth:token-type:jwt")
                    + "&subject_token=" + enc(token) + "&audience=" + enc(resource));
        }
        return bodies;
    }

    /** The log's text once it contains {@code marker}; fails when the process exits or 180 s pass first. */
    private static String awaitLog(Process process, Path log, String marker) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            String text = Files.exists(log) ? Files.readString(log) : "";
            if (text.contains(marker)) {
                return text;
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("sigil dev exited with status " + process.exitValue() + "; its log ends:\n"
                        + ProcessReaper.logTail(log));
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("sigil dev printed no welcome within 180 s; its log ends:\n" + ProcessReaper.logTail(log));
    }

    private static String find(Pattern pattern, String text, Path log) {
        Matcher m = pattern.matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("sigil dev's welcome lacks " + pattern.pattern() + "; its log ends:\n" + ProcessReaper.logTail(log));
        }
        return m.group(1);
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
