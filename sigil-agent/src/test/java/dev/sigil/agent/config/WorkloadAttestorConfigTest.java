package dev.sigil.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.agent.workload.WorkloadAttestor;
import dev.sigil.agent.workload.WorkloadAttestorPlugin;
import dev.sigil.agent.workload.WorkloadAttestors;
import dev.sigil.core.plugin.PluginRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's {@code workload_attestors} section: which attestors describe a caller, each a plugin. */
class WorkloadAttestorConfigTest {
    @TempDir
    Path dir;

    private AgentConfig load(String yaml) throws Exception {
        Path file = dir.resolve("agent.yaml");
        Files.writeString(file, "trust_domain: example.org\ninsecure_bootstrap: true\nnode_attestor:\n  type: join_token\n"
                + "  join_token: t\n" + yaml);
        return AgentConfigLoader.load(Optional.of(file), AgentEnvironment.of(Map.of(), dir.resolve("home")));
    }

    private static java.util.List<String> types(AgentConfig config) {
        return WorkloadAttestors.create(config.workloadAttestors(), PluginRegistry.installed(),
                new WorkloadAttestorPlugin.Context(Path.of("/proc"), Path.of("/etc"))).stream().map(WorkloadAttestor::type).toList();
    }

    @Test
    void withoutTheSectionCallersAreAttestedByUnixAndCgroup() throws Exception {
        assertThat(types(load(""))).containsExactly("unix", "cgroup");
    }

    @Test
    void theSectionChoosesTheAttestorsInItsOrder() throws Exception {
        assertThat(types(load("workload_attestors:\n  unix:\n"))).containsExactly("unix");
        assertThat(types(load("workload_attestors:\n  cgroup: {}\n  unix: {}\n"))).containsExactly("cgroup", "unix");
    }

    @Test
    void unknownAttestorsAndEmptySectionsAreRefusedNamingTheKey() {
        Path file = dir.resolve("agent.yaml");
        assertThatThrownBy(() -> load("workload_attestors:\n  systemd: {}\n"))
                .hasMessage(file + " line 7, column 3: unknown key 'systemd' under 'workload_attestors'; valid keys: cgroup, k8s, unix");
        assertThatThrownBy(() -> load("workload_attestors:\n  unix: { colour: red }\n"))
                .hasMessageContaining("unknown key 'colour' under 'workload_attestors.unix'");
        assertThatThrownBy(() -> load("workload_attestors: {}\n")).isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("workload_attestors configures no workload attestor; at least one is required");
    }

    @Test
    void theK8sAttestorHasNoSwitchToSkipVerifyingTheKubelet() {
        assertThatThrownBy(() -> load("workload_attestors:\n  k8s:\n    skip_kubelet_verification: true\n"))
                .hasMessageContaining("unknown key 'skip_kubelet_verification' under 'workload_attestors.k8s'");
    }

    @Test
    void theK8sAttestorRefusesAClientCertificateWithoutItsKey() {
        assertThatThrownBy(() -> load("workload_attestors:\n  k8s:\n    client_cert_file: /etc/sigil/kubelet-client.crt\n"))
                .hasMessageContaining("needs both client_cert_file and client_key_file");
    }

    @Test
    void everyInstalledAgentPluginIsWellFormed() {
        for (var kind : AgentPlugins.ALL) {
            assertThat(PluginRegistry.installed().plugins(kind)).as(kind.section()).isNotEmpty().allSatisfy((type, plugin) -> {
                assertThat(type).matches("[a-z][a-z0-9_]{0,31}");
                assertThat(plugin.kind()).isEqualTo(kind);
                assertThat(plugin.settingsType().isRecord()).isTrue();
                assertThat(Arrays.stream(plugin.getClass().getConstructors()).anyMatch(c -> c.getParameterCount() == 0)).isTrue();
            });
        }
    }
}
