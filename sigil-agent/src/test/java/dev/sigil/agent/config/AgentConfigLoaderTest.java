package dev.sigil.agent.config;

import dev.sigil.agent.attestor.JoinTokenAttestorClientPlugin;
import dev.sigil.agent.attestor.X509PopAttestorClientPlugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentConfigLoaderTest {
    @TempDir
    Path dir;

    private AgentConfig load(String yaml, Map<String, String> env) throws Exception {
        Path file = dir.resolve("agent.yaml");
        Files.writeString(file, yaml);
        return AgentConfigLoader.load(Optional.of(file), AgentEnvironment.of(env, dir.resolve("home")));
    }

    @Test
    void minimalFileGetsTheDocumentedDefaults() throws Exception {
        AgentConfig config = load("""
                trust_domain: example.org
                trust_bundle_path: bundle.pem
                node_attestor:
                  type: join_token
                  join_token: abc123
                """, Map.of());

        assertThat(config.trustDomain().name()).isEqualTo("example.org");
        assertThat(config.serverAddress()).isEqualTo(new AgentConfig.ServerAddress("127.0.0.1", 8081));
        assertThat(config.bootstrap()).isEqualTo(new AgentConfig.TrustBootstrap.BundleFile(dir.resolve("bundle.pem")));
        assertThat(config.dataDir()).isEqualTo(dir.resolve("home/.local/share/sigil-agent"));
        assertThat(config.workloadApiSocket()).isEqualTo(Path.of("/tmp/sigil-agent/public/api.sock"));
        assertThat(config.syncInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.logLevel()).isEqualTo(AgentConfig.LogLevel.INFO);
        assertThat(config.nodeAttestor()).isEqualTo(JoinTokenAttestorClientPlugin.choice("abc123"));
        assertThat(config.workloadReattestInterval()).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void workloadReattestIntervalIsReadAndMustBeAtLeast100Milliseconds() throws Exception {
        String base = """
                trust_domain: example.org
                trust_bundle_path: bundle.pem
                node_attestor:
                  type: join_token
                  join_token: abc123
                """;
        assertThat(load(base + "workload_reattest_interval: PT0.5S\n", Map.of()).workloadReattestInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(load(base + "workload_reattest_interval: 5s\n", Map.of()).workloadReattestInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThatThrownBy(() -> load(base + "workload_reattest_interval: PT0.01S\n", Map.of()))
                .isInstanceOf(AgentConfigException.class).hasMessageContaining("workload_reattest_interval").hasMessageContaining("at least 100ms");
    }

    @Test
    void rootDefaultsToVarLib() {
        assertThat(new AgentEnvironment(Map.of(), dir, true).defaultDataDir()).isEqualTo(Path.of("/var/lib/sigil-agent"));
    }

    @Test
    void environmentOverridesTheFile() throws Exception {
        AgentConfig config = load("""
                trust_domain: example.org
                server_address: sigil.example.org:9000
                trust_bundle_path: bundle.pem
                node_attestor:
                  type: join_token
                  join_token: from-file
                """, Map.of("SIGIL_AGENT_DATA_DIR", dir.resolve("data").toString(), "SIGIL_JOIN_TOKEN", "from-env",
                "SIGIL_AGENT_SERVER_ADDRESS", "10.0.0.1:8081"));

        assertThat(config.dataDir()).isEqualTo(dir.resolve("data"));
        assertThat(config.nodeAttestor()).isEqualTo(JoinTokenAttestorClientPlugin.choice("from-env"));
        assertThat(config.serverAddress().toString()).isEqualTo("10.0.0.1:8081");
    }

    @Test
    void joinTokenFromTheEnvironmentNeedsNoAttestorSection() throws Exception {
        AgentConfig config = load("""
                trust_domain: example.org
                trust_bundle_path: bundle.pem
                """, Map.of("SIGIL_JOIN_TOKEN", "t0k3n"));

        assertThat(config.nodeAttestor().type()).isEqualTo("join_token");
        assertThat(config.toString()).doesNotContain("t0k3n");
    }

    @Test
    void x509PopNeedsCertAndKeyFiles() throws Exception {
        AgentConfig config = load("""
                trust_domain: example.org
                trust_bundle_path: bundle.pem
                node_attestor:
                  type: x509pop
                  cert_file: node.crt
                  key_file: node.key
                workload_api:
                  socket_path: /run/sigil/api.sock
                sync_interval: 30s
                """, Map.of());

        assertThat(config.nodeAttestor().settings(X509PopAttestorClientPlugin.Settings.class))
                .isEqualTo(new X509PopAttestorClientPlugin.Settings(dir.resolve("node.crt"), dir.resolve("node.key")));
        assertThat(config.workloadApiSocket()).isEqualTo(Path.of("/run/sigil/api.sock"));
        assertThat(config.syncInterval()).isEqualTo(Duration.ofSeconds(30));
        assertThatThrownBy(() -> load("""
                trust_domain: example.org
                trust_bundle_path: bundle.pem
                node_attestor:
                  type: x509pop
                  cert_file: node.crt
                """, Map.of())).isInstanceOf(AgentConfigException.class).hasMessageContaining("needs both cert_file and key_file");
    }

    @Test
    void unknownKeysFailWithTheirLine() {
        assertThatThrownBy(() -> load("""
                trust_domain: example.org
                trust_bundle_path: bundle.pem
                node_attestor:
                  type: join_token
                  jointoken: abc
                """, Map.of())).isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("line 5").hasMessageContaining("unknown key 'jointoken' under 'node_attestor'")
                .hasMessageContaining("join_token");
    }

    @Test
    void badValuesNameTheKeyAndTheValue() {
        assertThatThrownBy(() -> load("""
                trust_domain: example.org
                server_address: no-port
                """, Map.of())).isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("line 2").hasMessageContaining("server_address").hasMessageContaining("'no-port'");
    }

    @Test
    void valuesOfTheWrongKindAndDuplicateKeysAreRefusedAsTheServerRefusesThem() {
        assertThatThrownBy(() -> load("""
                trust_domain: example.org
                insecure_bootstrap: {yes: 1}
                """, Map.of())).isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("line 2").hasMessageContaining("key 'insecure_bootstrap' must be true or false");
        assertThatThrownBy(() -> load("""
                trust_domain: example.org
                trust_domain: example.com
                """, Map.of())).isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("line 2").hasMessageContaining("duplicate key 'trust_domain'");
    }

    @Test
    void insecureBootstrapIsOffByDefault() {
        assertThatThrownBy(() -> load("""
                trust_domain: example.org
                node_attestor:
                  type: join_token
                  join_token: abc
                """, Map.of())).isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("trust_bundle_path is required").hasMessageContaining("insecure_bootstrap");
    }

    @Test
    void insecureBootstrapMustBeAskedForByName() throws Exception {
        AgentConfig config = load("""
                trust_domain: example.org
                insecure_bootstrap: true
                node_attestor:
                  type: join_token
                  join_token: abc
                """, Map.of());

        assertThat(config.bootstrap()).isInstanceOf(AgentConfig.TrustBootstrap.Insecure.class);
    }

    @Test
    void bundleAndInsecureBootstrapExcludeEachOther() {
        assertThatThrownBy(() -> load("""
                trust_domain: example.org
                trust_bundle_path: bundle.pem
                insecure_bootstrap: true
                node_attestor:
                  type: join_token
                  join_token: abc
                """, Map.of())).isInstanceOf(AgentConfigException.class).hasMessageContaining("exclude each other");
    }

    @Test
    void trustDomainIsRequired() {
        assertThatThrownBy(() -> load("""
                trust_bundle_path: bundle.pem
                """, Map.of("SIGIL_JOIN_TOKEN", "x"))).isInstanceOf(AgentConfigException.class).hasMessageContaining("trust_domain is required");
    }

    @Test
    void unknownAttestorTypeNamesTheValidOnes() {
        assertThatThrownBy(() -> load("""
                trust_domain: example.org
                trust_bundle_path: bundle.pem
                node_attestor:
                  type: sev
                """, Map.of())).isInstanceOf(AgentConfigException.class).hasMessageContaining("'sev'").hasMessageContaining("join_token or jwt or tpm or x509pop");
    }
}
