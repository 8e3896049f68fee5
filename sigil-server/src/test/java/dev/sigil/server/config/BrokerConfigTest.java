package dev.sigil.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokerConfigTest {
    @TempDir
    Path dir;

    private ServerConfig load(String yaml) throws Exception {
        Path file = dir.resolve("server.yaml");
        Files.writeString(file, yaml);
        return ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir.resolve("home")), ConfigOverrides.none());
    }

    @Test
    void noBrokersSectionOffersNoBroker() throws Exception {
        assertThat(load("").brokers()).isEqualTo(BrokerSettings.none());
    }

    @Test
    void brokersSectionIsReadWithDefaults() throws Exception {
        BrokerSettings brokers = load("""
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
                """).brokers();
        BrokerSettings.Postgresql pg = brokers.postgresql().orElseThrow();
        assertThat(pg.ttls()).isEqualTo(new BrokerSettings.Ttls("postgresql", Duration.ofMinutes(15), Duration.ofHours(2)));
        assertThat(pg.adminPasswordFile()).isEqualTo(dir.resolve("pg.pass"));
        assertThat(pg.rolePrefix()).isEqualTo("sigil_");
        assertThat(pg.resources()).containsEntry("reports", new BrokerSettings.Resource(List.of("reader"), 5))
                .containsEntry("etl", new BrokerSettings.Resource(List.of("reader", "writer"), 2));
        BrokerSettings.Ssh ssh = brokers.ssh().orElseThrow();
        assertThat(ssh.ttls()).isEqualTo(new BrokerSettings.Ttls("ssh", Duration.ofMinutes(5), Duration.ofHours(1)));
        assertThat(ssh.resources()).isEqualTo(Set.of("bastion", "builders"));
        assertThat(ssh.revokedKeysFile()).contains(dir.resolve("krl"));
        assertThat(load("brokers:\n  ssh:\n    resources: { bastion: {} }\n").brokers().ssh().orElseThrow().resources())
                .containsExactly("bastion");
    }

    @Test
    void badBrokerSettingsAreRefusedNamingTheKey() {
        assertThatThrownBy(() -> load("brokers:\n  vault: {}\n")).hasMessageContaining("vault");
        assertThatThrownBy(() -> load("brokers:\n  ssh:\n    resources: [a]\n    default_ttl: 2h\n"))
                .hasMessageContaining("brokers.ssh.max_ttl");
        assertThatThrownBy(() -> load("brokers:\n  postgresql:\n    url: postgres://x\n    admin_user: a\n    admin_password_file: p\n"
                + "    resources: { r: { member_of: [x] } }\n")).hasMessageContaining("brokers.postgresql.url");
    }
}
