package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.sigil.agent.config.AgentConfig;
import dev.sigil.agent.config.AgentConfigLoader;
import dev.sigil.agent.config.AgentEnvironment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/systemd: the units pass {@code systemd-analyze verify} without a single warning (it exits 0 even on
 * unknown keys, so any output fails), carry the hardening docs/deployment.md promises, and agree with the
 * example configurations beside them, which the real loaders accept.
 */
@Timeout(60)
class SystemdUnitsTest {
    private static final Path SOURCE_ROOT = Path.of("").toAbsolutePath().getParent();
    private static final Path UNITS = SOURCE_ROOT.resolve("deploy/systemd");

    @TempDir
    Path temp;

    @Test
    void unitsVerifyCleanWithSystemdAnalyze() throws Exception {
        Path analyze = Path.of("/usr/bin/systemd-analyze");
        assumeThat(analyze).as("systemd-analyze (apt-get install systemd; .ci/run does)").isExecutable();
        // ExecStart must name an executable: the launcher of this source tree stands in for /opt/sigil
        List<String> command = new ArrayList<>(List.of(analyze.toString(), "verify", "--man=no"));
        for (String name : List.of("sigil-server.service", "sigil-agent.service")) {
            Path unit = temp.resolve(name);
            Files.writeString(unit, Files.readString(UNITS.resolve(name)).replace("/opt/sigil/", SOURCE_ROOT + "/"));
            command.add(unit.toString());
        }
        Process verify = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(verify.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(verify.waitFor(40, TimeUnit.SECONDS)).isTrue();
        assertThat(verify.exitValue()).as(output).isZero();
        assertThat(output).isEmpty();
    }

    @Test
    void bothServicesRunAsTheSigilUserUnderStrictHardening() throws Exception {
        for (String name : List.of("sigil-server.service", "sigil-agent.service")) {
            Map<String, List<String>> service = service(name);
            assertThat(service).as(name)
                    .containsEntry("User", List.of("sigil"))
                    .containsEntry("NoNewPrivileges", List.of("yes"))
                    .containsEntry("ProtectSystem", List.of("strict"))
                    .containsEntry("PrivateTmp", List.of("yes"))
                    .containsEntry("RestrictAddressFamilies", List.of("AF_UNIX AF_INET AF_INET6"))
                    .containsKeys("ProtectHome", "StateDirectory", "ReadWritePaths", "CapabilityBoundingSet")
                    .doesNotContainKey("MemoryDenyWriteExecute");
            assertThat(service.get("StateDirectory").get(0)).startsWith("sigil/");
        }
        assertThat(service("sigil-server.service")).containsEntry("CapabilityBoundingSet", List.of(""))
                .containsEntry("ExecStart", List.of("/opt/sigil/bin/sigil server run --config /etc/sigil/server.yaml"));
    }

    @Test
    void theAgentKeepsOnlyWhatAttestingOtherUsersProcessesNeeds() throws Exception {
        Map<String, List<String>> agent = service("sigil-agent.service");
        assertThat(agent).containsEntry("CapabilityBoundingSet", List.of("CAP_SYS_PTRACE"))
                .containsEntry("AmbientCapabilities", List.of("CAP_SYS_PTRACE"))
                .containsEntry("RuntimeDirectory", List.of("sigil-agent"))
                .containsEntry("RuntimeDirectoryMode", List.of("0755"))
                // hiding processes from the agent would refuse every workload it must attest
                .doesNotContainKeys("ProtectProc", "ProcSubset", "PrivateUsers");
    }

    @Test
    void exampleConfigurationsLoadAndMatchTheUnitsDirectories() throws Exception {
        AgentConfig agent = AgentConfigLoader.load(Optional.of(UNITS.resolve("agent.yaml")),
                AgentEnvironment.of(Map.of("SIGIL_JOIN_TOKEN", "example"), temp));
        assertThat(agent.workloadApiSocket()).isEqualTo(Path.of("/run", service("sigil-agent.service").get("RuntimeDirectory").get(0),
                "public/api.sock"));
        assertThat(agent.dataDir()).isEqualTo(Path.of("/var/lib", service("sigil-agent.service").get("StateDirectory").get(0)));

        CliHarness.Result server = new CliHarness(Map.of(), temp).run("server", "validate", "--config", UNITS.resolve("server.yaml").toString());
        assertThat(server.exitCode()).as(server.err()).isZero();
        assertThat(server.out()).contains("config OK")
                .contains("/var/lib/" + service("sigil-server.service").get("StateDirectory").get(0));
    }

    /** The [Service] section's settings, each key with its values in order. */
    private static Map<String, List<String>> service(String name) throws Exception {
        Map<String, List<String>> settings = new LinkedHashMap<>();
        boolean inService = false;
        for (String line : Files.readAllLines(UNITS.resolve(name))) {
            String trimmed = line.strip();
            if (trimmed.startsWith("[")) {
                inService = trimmed.equals("[Service]");
            } else if (inService && !trimmed.isEmpty() && !trimmed.startsWith("#")) {
                int equals = trimmed.indexOf('=');
                settings.computeIfAbsent(trimmed.substring(0, equals), key -> new ArrayList<>()).add(trimmed.substring(equals + 1));
            }
        }
        return settings;
    }
}
