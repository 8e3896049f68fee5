package dev.sigil.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code server_address}: one {@code host:port}, a yaml list of them, or a comma-separated list in
 * {@code SIGIL_AGENT_SERVER_ADDRESS}; every refusal is one line naming the key (or variable) and the
 * bad entry, with its line for the file.
 */
class ServerAddressConfigTest {
    private static final String BASE = """
            trust_domain: example.org
            trust_bundle_path: bundle.pem
            node_attestor:
              type: join_token
              join_token: abc123
            """;

    @TempDir
    Path dir;

    private AgentConfig load(String yaml, Map<String, String> env) throws Exception {
        Path file = dir.resolve("agent.yaml");
        Files.writeString(file, yaml);
        return AgentConfigLoader.load(Optional.of(file), AgentEnvironment.of(env, dir.resolve("home")));
    }

    private static List<AgentConfig.ServerAddress> addresses(String... text) {
        return java.util.Arrays.stream(text).map(AgentConfig.ServerAddress::parse).toList();
    }

    @Test
    void oneAddressIsAListOfOne() throws Exception {
        AgentConfig config = load(BASE + "server_address: sigil.example.org:9000\n", Map.of());

        assertThat(config.serverAddresses()).isEqualTo(addresses("sigil.example.org:9000"));
        assertThat(config.serverAddress()).isEqualTo(new AgentConfig.ServerAddress("sigil.example.org", 9000));
    }

    @Test
    void defaultIsTheLocalServer() throws Exception {
        assertThat(load(BASE, Map.of()).serverAddresses()).isEqualTo(addresses("127.0.0.1:8081"));
    }

    @Test
    void aYamlListKeepsItsOrder() throws Exception {
        AgentConfig config = load(BASE + """
                server_address:
                  - sigil-b.example.org:8081
                  - 10.0.0.7:8081
                  - "[fd00::1]:9000"
                """, Map.of());

        assertThat(config.serverAddresses()).containsExactly(new AgentConfig.ServerAddress("sigil-b.example.org", 8081),
                new AgentConfig.ServerAddress("10.0.0.7", 8081), new AgentConfig.ServerAddress("fd00::1", 9000));
        assertThat(config.serverAddress().toString()).isEqualTo("sigil-b.example.org:8081");
        assertThat(load(BASE + "server_address: [a.example.org:1, b.example.org:2]\n", Map.of()).serverAddresses())
                .isEqualTo(addresses("a.example.org:1", "b.example.org:2"));
    }

    @Test
    void theEnvironmentTakesACommaSeparatedListAndOverridesTheFile() throws Exception {
        AgentConfig config = load(BASE + "server_address: [a.example.org:1, b.example.org:2]\n",
                Map.of("SIGIL_AGENT_SERVER_ADDRESS", "10.0.0.1:8081, 10.0.0.2:8081,sigil.example.org:9000"));

        assertThat(config.serverAddresses()).isEqualTo(addresses("10.0.0.1:8081", "10.0.0.2:8081", "sigil.example.org:9000"));
        assertThat(load(BASE, Map.of("SIGIL_AGENT_SERVER_ADDRESS", "10.0.0.1:8081")).serverAddresses())
                .isEqualTo(addresses("10.0.0.1:8081"));
    }

    @Test
    void anEmptyListIsRefused() {
        assertThatThrownBy(() -> load(BASE + "server_address: []\n", Map.of())).isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("line 6").hasMessageContaining("key 'server_address': server address list is empty");
        assertThatThrownBy(() -> load(BASE, Map.of("SIGIL_AGENT_SERVER_ADDRESS", ",")))
                .isInstanceOf(AgentConfigException.class)
                .hasMessage("environment variable SIGIL_AGENT_SERVER_ADDRESS: server address list ',' has an empty entry; "
                        + "separate host:port entries with single commas");
    }

    @Test
    void moreThanSixteenAddressesAreRefused() throws Exception {
        String seventeen = IntStream.rangeClosed(1, 17).mapToObj(i -> "10.0.0." + i + ":8081").collect(Collectors.joining(", "));
        assertThatThrownBy(() -> load(BASE + "server_address: [" + seventeen + "]\n", Map.of()))
                .isInstanceOf(AgentConfigException.class).hasMessageContaining("line 6")
                .hasMessageContaining("key 'server_address': server address list has 17 entries; at most 16 are allowed");
        assertThatThrownBy(() -> load(BASE, Map.of("SIGIL_AGENT_SERVER_ADDRESS", seventeen)))
                .isInstanceOf(AgentConfigException.class)
                .hasMessage("environment variable SIGIL_AGENT_SERVER_ADDRESS: server address list has 17 entries; at most 16 are allowed");

        String sixteen = IntStream.rangeClosed(1, 16).mapToObj(i -> "10.0.0." + i + ":8081").collect(Collectors.joining(", "));
        assertThat(load(BASE + "server_address: [" + sixteen + "]\n", Map.of()).serverAddresses()).hasSize(16);
    }

    @Test
    void duplicatesAreRefused() {
        assertThatThrownBy(() -> load(BASE + """
                server_address:
                  - a.example.org:8081
                  - b.example.org:8081
                  - a.example.org:8081
                """, Map.of())).isInstanceOf(AgentConfigException.class).hasMessageContaining("line 7") // the list's start
                .hasMessageContaining("key 'server_address': server address 'a.example.org:8081' is listed twice");
        assertThatThrownBy(() -> load(BASE, Map.of("SIGIL_AGENT_SERVER_ADDRESS", "10.0.0.1:8081,10.0.0.1:8081")))
                .isInstanceOf(AgentConfigException.class)
                .hasMessage("environment variable SIGIL_AGENT_SERVER_ADDRESS: server address '10.0.0.1:8081' is listed twice");
    }

    @Test
    void aMalformedEntryIsNamedWithItsLine() {
        assertThatThrownBy(() -> load(BASE + """
                server_address:
                  - a.example.org:8081
                  - no-port
                """, Map.of())).isInstanceOf(AgentConfigException.class).hasMessageContaining("line 8")
                .hasMessageContaining("key 'server_address")
                .hasMessageContaining("server address 'no-port' is not host:port");
        assertThatThrownBy(() -> load(BASE + """
                server_address:
                  - a.example.org:99999
                """, Map.of())).isInstanceOf(AgentConfigException.class).hasMessageContaining("line 7")
                .hasMessageContaining("server address port 99999 is not valid");
        assertThatThrownBy(() -> load(BASE, Map.of("SIGIL_AGENT_SERVER_ADDRESS", "10.0.0.1:8081,10.0.0.2")))
                .isInstanceOf(AgentConfigException.class)
                .hasMessage("environment variable SIGIL_AGENT_SERVER_ADDRESS: server address '10.0.0.2' is not host:port, "
                        + "for example 127.0.0.1:8081");
    }

    @Test
    void aCommaInTheFilesSingleValueIsRefusedWithTheListForm() {
        assertThatThrownBy(() -> load(BASE + "server_address: a.example.org:1,b.example.org:2\n", Map.of()))
                .isInstanceOf(AgentConfigException.class).hasMessageContaining("line 6")
                .hasMessageContaining("key 'server_address': server address 'a.example.org:1,b.example.org:2' holds a comma; "
                        + "write several addresses as a yaml list");
    }

    @Test
    void mappingsAndNestedValuesAreRefused() {
        assertThatThrownBy(() -> load(BASE + "server_address: {host: a, port: 1}\n", Map.of()))
                .isInstanceOf(AgentConfigException.class).hasMessageContaining("line 6")
                .hasMessageContaining("key 'server_address': expected a single value or a list, not a mapping");
        assertThatThrownBy(() -> load(BASE + "server_address: [[a.example.org:1]]\n", Map.of()))
                .isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("key 'server_address': expected a single value in the list, not a list");
    }

    @Test
    void aConfigBuiltInCodeChecksItsListToo() {
        AgentConfig one = new AgentConfig(dir, new dev.sigil.core.spiffeid.TrustDomain("example.org"),
                new AgentConfig.ServerAddress("127.0.0.1", 8081), new AgentConfig.TrustBootstrap.Insecure(),
                dev.sigil.agent.attestor.JoinTokenAttestorClientPlugin.choice("t"), dir.resolve("api.sock"),
                java.time.Duration.ofSeconds(1), AgentConfig.LogLevel.INFO);
        assertThat(one.serverAddresses()).isEqualTo(addresses("127.0.0.1:8081"));
        assertThatThrownBy(() -> new AgentConfig(dir, one.trustDomain(), addresses("a:1", "a:1"), one.bootstrap(),
                one.nodeAttestor(), one.workloadApiSocket(), one.syncInterval(), one.logLevel(), one.workloadReattestInterval(),
                one.workloadAttestors())).isInstanceOf(IllegalArgumentException.class).hasMessage("server address 'a:1' is listed twice");
    }
}
