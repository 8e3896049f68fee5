package dev.sigil.server.credential;

import dev.sigil.server.config.ServerPlugins;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.credential.postgresql.PostgresBrokerPlugin;
import dev.sigil.server.credential.ssh.SshBrokerPlugin;
import dev.sigil.core.plugin.PluginRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code brokers:} section as each broker plugin binds and validates its own block. */
class BrokerPluginConfigTest {
    @TempDir
    Path dir;

    private ServerConfig load(String yaml) throws Exception {
        Path file = dir.resolve("server.yaml");
        Files.writeString(file, yaml);
        return ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir.resolve("home")), ConfigOverrides.none());
    }

    @Test
    void noBrokersSectionOffersNoBroker() throws Exception {
        assertThat(load("").brokers().blocks()).isEmpty();
        assertThatThrownBy(() -> load("brokers:\n  ssh:\n")).as("a block without settings gets the defaults")
                .hasMessageContaining("brokers.ssh.resources is empty");
    }

    @Test
    void theBuiltInBrokersAreInstalledPlugins() {
        assertThat(PluginRegistry.installed().plugins(ServerPlugins.BROKERS)).containsOnlyKeys("postgresql", "ssh");
    }

    @Test
    void eachBrokerBlockIsBoundByItsPluginWithDefaults() throws Exception {
        ServerConfig config = load("""
                brokers:
                  postgresql:
                    url: jdbc:postgresql://127.0.0.1:5432/app
                    admin_user: sigil_admin
                    admin_password_file: pg.pass
                    max_ttl: 2h
                    resources:
                      reports: { member_of: [reader] }
                      etl: { member_of: [reader, writer], connection_limit: 2 }
                  ssh:
                    default_ttl: 5m
                    resources: [bastion, builders]
                    revoked_keys_file: krl
                """);
        assertThat(config.brokers().blocks().keySet()).containsExactly("postgresql", "ssh");
        PostgresBrokerPlugin.Settings pg = config.brokers().settings("postgresql", PostgresBrokerPlugin.Settings.class).orElseThrow();
        assertThat(new PostgresBrokerPlugin().ttls(pg)).isEqualTo(new LeaseTtls(Duration.ofMinutes(15), Duration.ofHours(2)));
        assertThat(pg.adminPasswordFile()).isEqualTo(dir.resolve("pg.pass"));
        assertThat(pg.rolePrefix()).isEqualTo("sigil_");
        assertThat(pg.resources()).containsEntry("reports", new PostgresBrokerPlugin.Resource(List.of("reader"), 5))
                .containsEntry("etl", new PostgresBrokerPlugin.Resource(List.of("reader", "writer"), 2));
        SshBrokerPlugin.Settings ssh = config.brokers().settings("ssh", SshBrokerPlugin.Settings.class).orElseThrow();
        assertThat(new SshBrokerPlugin().ttls(ssh)).isEqualTo(new LeaseTtls(Duration.ofMinutes(5), Duration.ofHours(1)));
        assertThat(ssh.resourceNames()).containsExactly("bastion", "builders");
        assertThat(ssh.revokedKeys()).contains(dir.resolve("krl"));
        assertThat(load("brokers:\n  ssh:\n    resources: { bastion: {} }\n").brokers().settings("ssh", SshBrokerPlugin.Settings.class)
                .orElseThrow().resourceNames()).containsExactly("bastion");
    }

    @Test
    void badBrokerSettingsAreRefusedNamingThePluginTheKeyAndTheLine() {
        Path file = dir.resolve("server.yaml");
        assertThatThrownBy(() -> load("brokers:\n  vault: {}\n"))
                .hasMessage(file + " line 2, column 3: unknown key 'vault' under 'brokers'; valid keys: postgresql, ssh");
        assertThatThrownBy(() -> load("brokers:\n  ssh:\n    resources: [a]\n    colour: red\n"))
                .hasMessage(file + " line 4, column 5: unknown key 'colour' under 'brokers.ssh'; valid keys: default_ttl, max_ttl, "
                        + "resources, revoked_keys_file");
        assertThatThrownBy(() -> load("brokers:\n  ssh:\n    resources: [a]\n    default_ttl: 2h\n"))
                .hasMessageStartingWith(file + " line ").hasMessageContaining("brokers.ssh.max_ttl (1h) must be at least default_ttl (2h)");
        assertThatThrownBy(() -> load("brokers:\n  ssh:\n    resources: [a]\n    default_ttl: soon\n"))
                .hasMessageStartingWith(file + " line 4").hasMessageContaining("brokers.ssh.default_ttl");
        assertThatThrownBy(() -> load("brokers:\n  postgresql:\n    url: postgres://x\n    admin_user: a\n    admin_password_file: p\n"
                + "    resources: { r: { member_of: [x] } }\n")).hasMessageContaining("brokers.postgresql.url is 'postgres://x'");
        assertThatThrownBy(() -> load("brokers:\n  postgresql:\n    url: jdbc:postgresql://h/db\n    admin_user: a\n"
                + "    admin_password_file: p\n    resources: { r: { member_of: [x], connection_limit: 0 } }\n"))
                .hasMessageContaining("connection_limit is 0");
    }
}
