package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sigil resource create|list|metadata|delete} against a real server's admin socket. */
class ResourceCommandTest {
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path dir;
    private SigilServer server;

    @BeforeEach
    void start() throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                jwt:
                  issuer: https://sigil.example.org
                bundle_endpoint:
                  enabled: false
                agent_api:
                  port: 0
                token_endpoint:
                  port: 0
                """.formatted(dir.resolve("server")));
        server = SigilServer.start(ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()),
                Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private CliHarness.Result sigil(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--socket");
        all.add(server.admin().socketPath().toString());
        return new CliHarness(Map.of(), dir).run(all.toArray(String[]::new));
    }

    @Test
    void anOperatorRegistersAnMcpServerAndPrintsItsProtectedResourceMetadata() throws Exception {
        CliHarness.Result created = sigil("resource", "create", "--uri", "https://MCP.example.com/tools", "--scopes", "tools.list,tools.call",
                "--name", "Tools");
        assertThat(created.exitCode()).as(created.err()).isZero();
        assertThat(created.out()).contains("https://mcp.example.com/tools").contains("tools.list tools.call");
        assertThat(sigil("resource", "list").out()).contains("https://mcp.example.com/tools").contains("Tools");

        CliHarness.Result metadata = sigil("resource", "metadata", "https://mcp.example.com/tools");
        assertThat(metadata.exitCode()).as(metadata.err()).isZero();
        JsonNode document = json.readTree(metadata.out());
        assertThat(document.path("resource").asText()).isEqualTo("https://mcp.example.com/tools");
        assertThat(document.path("authorization_servers").get(0).asText()).isEqualTo("https://sigil.example.org");
        assertThat(document.path("scopes_supported").toString()).isEqualTo("[\"tools.list\",\"tools.call\"]");
        assertThat(document.path("resource_name").asText()).isEqualTo("Tools");

        CliHarness.Result again = sigil("resource", "create", "--uri", "https://mcp.example.com/tools", "--scopes", "x");
        assertThat(again.exitCode()).isNotZero();
        assertThat(again.err()).contains("already registered");
        CliHarness.Result insecure = sigil("resource", "create", "--uri", "http://mcp.example.com/", "--scopes", "x");
        assertThat(insecure.exitCode()).isNotZero();
        assertThat(insecure.err()).contains("must be an absolute https uri").doesNotContain("Exception");

        CliHarness.Result deleted = sigil("resource", "delete", "https://mcp.example.com/tools");
        assertThat(deleted.exitCode()).as(deleted.err()).isZero();
        assertThat(sigil("resource", "list").out()).contains("no resources");
        CliHarness.Result missing = sigil("resource", "metadata", "https://mcp.example.com/tools");
        assertThat(missing.exitCode()).isNotZero();
        assertThat(missing.err()).contains("is not registered");
    }
}
