package dev.sigil.server.agent.attestor;

import dev.sigil.server.config.ServerPlugins;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.core.plugin.PluginRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code node_attestors} section: which attestation methods agents may use, each configured by its plugin. */
class NodeAttestorPluginConfigTest {
    @TempDir
    Path dir;

    private ServerConfig load(String yaml) throws Exception {
        Path file = dir.resolve("server.yaml");
        Files.writeString(file, yaml);
        return ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir.resolve("home")), ConfigOverrides.none());
    }

    @Test
    void withoutTheSectionAgentsAttestWithJoinTokensOnly() throws Exception {
        assertThat(load("").nodeAttestors().blocks()).containsOnlyKeys("join_token");
        assertThat(PluginRegistry.installed().plugins(ServerPlugins.NODE_ATTESTORS)).containsOnlyKeys("join_token", "jwt", "tpm", "x509pop");
    }

    @Test
    void theSectionListsExactlyTheMethodsAgentsMayUse() throws Exception {
        ServerConfig config = load("node_attestors:\n  x509pop:\n    ca_bundle_file: nodes.pem\n");
        assertThat(config.nodeAttestors().blocks()).containsOnlyKeys("x509pop");
        assertThat(config.nodeAttestors().settings("x509pop", X509PopAttestorPlugin.Settings.class))
                .contains(new X509PopAttestorPlugin.Settings(dir.resolve("nodes.pem")));
        assertThat(load("node_attestors:\n  join_token:\n  x509pop: { ca_bundle_file: n.pem }\n").nodeAttestors().blocks())
                .containsOnlyKeys("join_token", "x509pop");
    }

    @Test
    void theOlderAgentApiSpellingOfX509popStillWorksBesideJoinTokens() throws Exception {
        ServerConfig config = load("agent_api:\n  x509pop:\n    ca_bundle_file: nodes.pem\n");
        assertThat(config.nodeAttestors().blocks()).containsOnlyKeys("join_token", "x509pop");
        assertThatThrownBy(() -> load("agent_api:\n  x509pop:\n    ca_bundle_file: a.pem\nnode_attestors:\n  x509pop:\n"
                + "    ca_bundle_file: b.pem\n")).hasMessageContaining("x509pop is configured twice");
    }

    @Test
    void badSectionsAreRefusedNamingTheKey() {
        Path file = dir.resolve("server.yaml");
        assertThatThrownBy(() -> load("node_attestors: {}\n")).hasMessageContaining("node_attestors configures no node attestor; "
                + "at least one is required");
        assertThatThrownBy(() -> load("node_attestors:\n  sev: {}\n"))
                .hasMessage(file + " line 2, column 3: unknown key 'sev' under 'node_attestors'; valid keys: join_token, jwt, tpm, x509pop");
        assertThatThrownBy(() -> load("node_attestors:\n  tpm: {}\n")).hasMessageStartingWith(file + " line 2")
                .hasMessageContaining("node_attestors.tpm needs ek_ca_bundle_file (pem manufacturer ca certificates) or ek_allow_list");
        assertThatThrownBy(() -> load("node_attestors:\n  tpm:\n    ek_allow_list: [abc]\n")).hasMessageStartingWith(file + " line ")
                .hasMessageContaining("ek_allow_list holds 'abc'; each entry is the sha-256 of an ek public key, 64 hex digits");
        assertThatThrownBy(() -> load("node_attestors:\n  tpm:\n    ek_allow_list: [" + "a".repeat(64) + "]\n    pcr_selection: [0]\n"
                + "    pcr_policies:\n      - name: golden\n        pcrs:\n          16: [\"" + "0".repeat(64) + "\"]\n"))
                .hasMessageContaining("pcr_policies 'golden' constrains pcr 16, which pcr_selection [0] does not quote");
        assertThatThrownBy(() -> load("node_attestors:\n  x509pop: {}\n")).hasMessageStartingWith(file + " line 2")
                .hasMessageContaining("node_attestors.x509pop needs ca_bundle_file");
        assertThatThrownBy(() -> load("node_attestors:\n  x509pop:\n")).hasMessageStartingWith(file + " line 2")
                .hasMessageContaining("node_attestors.x509pop needs ca_bundle_file");
    }

    private static String jwt(String issuer) {
        return "node_attestors:\n  jwt:\n    issuers:\n      - " + issuer.replace("\n", "\n        ") + "\n";
    }

    @Test
    void jwtIssuersAreCheckedWhenLoadedWithMessagesNamingTheIssuerAndKey() throws Exception {
        ServerConfig config = load(jwt("issuer: https://token.actions.githubusercontent.com\naudience: sigil\npreset: github_actions"));
        var settings = config.nodeAttestors().settings("jwt", dev.sigil.server.agent.attestor.jwt.JwtAttestorPlugin.Settings.class)
                .orElseThrow();
        assertThat(settings.issuers()).singleElement().satisfies(issuer -> assertThat(issuer.preset()).isEqualTo("github_actions"));

        assertThatThrownBy(() -> load("node_attestors:\n  jwt:\n")).hasMessageContaining("node_attestors.jwt needs issuers");
        assertThatThrownBy(() -> load(jwt("issuer: https://gitlab.example\npreset: gitlab_ci")))
                .hasMessageContaining("issuer 'https://gitlab.example' needs audience");
        assertThatThrownBy(() -> load(jwt("issuer: https://k8s.example\naudience: sigil\npreset: k8s_psat")))
                .hasMessageContaining("preset k8s_psat needs cluster");
        assertThatThrownBy(() -> load(jwt("issuer: https://k8s.example\naudience: sigil\npreset: eks")))
                .hasMessageContaining("preset 'eks' is not known; use one of k8s_psat, github_actions, gitlab_ci");
        assertThatThrownBy(() -> load(jwt("issuer: http://k8s.example\naudience: sigil")))
                .hasMessageContaining("is not an https url, so its keys cannot be discovered");
        assertThatThrownBy(() -> load(jwt("issuer: https://gitlab.example\naudience: sigil\nclaims:\n  namespace_path: github:repository")))
                .hasMessageContaining("selector name 'github:repository' belongs to preset github_actions");
        assertThatThrownBy(() -> load(jwt("issuer: https://ci.example\naudience: sigil\nclaims:\n  sub: sub")))
                .hasMessageContaining("selector name 'sub' is reserved");
        assertThatThrownBy(() -> load(jwt("issuer: https://ci.example\naudience: sigil\nclock_skew: 1h")))
                .hasMessageContaining("clock_skew is 1h; use 0s to 5m");
        assertThatThrownBy(() -> load(jwt("issuer: https://ci.example\naudience: sigil\nbogus: 1")))
                .hasMessageContaining("bogus");
    }
}
