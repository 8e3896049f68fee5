package dev.sigil.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.agent.attestor.JoinTokenAttestorClientPlugin;
import dev.sigil.agent.attestor.JwtAttestorClientPlugin;
import dev.sigil.agent.attestor.NodeAttestorClients;
import dev.sigil.core.plugin.PluginRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code node_attestor}: one node attestor plugin, chosen by {@code type}, its settings beside the type. */
class NodeAttestorChoiceConfigTest {
    @TempDir
    Path dir;

    private AgentConfig load(String yaml, Map<String, String> env) throws Exception {
        Path file = dir.resolve("agent.yaml");
        Files.writeString(file, "trust_domain: example.org\ninsecure_bootstrap: true\n" + yaml);
        return AgentConfigLoader.load(Optional.of(file), AgentEnvironment.of(env, dir.resolve("home")));
    }

    @Test
    void theTypeChoosesTheClientThatAttests() throws Exception {
        assertThat(PluginRegistry.installed().plugins(AgentPlugins.NODE_ATTESTOR)).containsOnlyKeys("join_token", "jwt", "tpm", "x509pop");
        AgentConfig config = load("node_attestor:\n  type: join_token\n  join_token: abc\n", Map.of());
        assertThat(NodeAttestorClients.create(config.nodeAttestor(), PluginRegistry.installed()).singleUse()).isTrue();
        assertThat(config.toString()).doesNotContain("abc");
        assertThat(load("", Map.of("SIGIL_JOIN_TOKEN", "from-env")).nodeAttestor()).isEqualTo(JoinTokenAttestorClientPlugin.choice("from-env"));
    }

    @Test
    void keysOfAnotherAttestorAndUnknownTypesAreRefused() {
        Path file = dir.resolve("agent.yaml");
        assertThatThrownBy(() -> load("node_attestor:\n  join_token: abc\n  type: x509pop\n  cert_file: a\n  key_file: b\n", Map.of()))
                .hasMessage(file + " line 4, column 3: unknown key 'join_token' under 'node_attestor'; valid keys: cert_file, key_file, type");
        assertThatThrownBy(() -> load("node_attestor:\n  type: sev\n", Map.of())).hasMessageContaining("node_attestor.type 'sev' is not valid; "
                + "use join_token or jwt or tpm or x509pop");
        assertThatThrownBy(() -> load("node_attestor:\n  type: x509pop\n  cert_file: a\n", Map.of()))
                .hasMessageContaining("node_attestor type x509pop needs both cert_file and key_file");
        assertThatThrownBy(() -> load("node_attestor:\n  type: join_token\n", Map.of()))
                .hasMessageContaining("node_attestor type join_token needs node_attestor.join_token or SIGIL_JOIN_TOKEN");
        assertThatThrownBy(() -> load("", Map.of())).hasMessageContaining("node_attestor.type is required");
    }

    @Test
    void tpmTalksToTheKernelsResourceManagerUnlessATctiIsGiven() throws Exception {
        assertThat(load("node_attestor:\n  type: tpm\n", Map.of()).nodeAttestor().settings(dev.sigil.agent.attestor.TpmAttestorClientPlugin.Settings.class))
                .isEqualTo(new dev.sigil.agent.attestor.TpmAttestorClientPlugin.Settings("device:/dev/tpmrm0"));
        assertThat(load("node_attestor:\n  type: tpm\n  tcti: swtpm:host=127.0.0.1,port=2321\n", Map.of()).nodeAttestor().settings(dev.sigil.agent.attestor.TpmAttestorClientPlugin.Settings.class))
                .isEqualTo(new dev.sigil.agent.attestor.TpmAttestorClientPlugin.Settings("swtpm:host=127.0.0.1,port=2321"));
    }

    @Test
    void jwtReadsItsTokenFromTokenPathWithTheKubernetesProjectionAsDefault() throws Exception {
        AgentConfig defaults = load("node_attestor:\n  type: jwt\n", Map.of());
        assertThat(defaults.nodeAttestor().settings(JwtAttestorClientPlugin.Settings.class).tokenPath())
                .isEqualTo(Path.of("/var/run/secrets/tokens/sigil-agent"));

        AgentConfig chosen = load("node_attestor:\n  type: jwt\n  token_path: ci/oidc-token\n", Map.of());
        var client = NodeAttestorClients.create(chosen.nodeAttestor(), PluginRegistry.installed());
        assertThat(client.type()).isEqualTo("jwt");
        assertThat(client.singleUse()).as("each attestation reads the file afresh").isFalse();
        assertThat(client.toString()).contains(dir.resolve("ci/oidc-token").toString());
        assertThatThrownBy(client::evidence).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("jwt token file " + dir.resolve("ci/oidc-token") + " does not exist");
    }
}
