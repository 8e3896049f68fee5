package dev.sigil.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.core.crypto.KeyType;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigLoaderTest {
    @TempDir
    Path dir;

    private ServerConfig load(String yaml, Map<String, String> env, ConfigOverrides flags) throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, yaml);
        return ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(env, dir.resolve("home")), flags);
    }

    private ServerConfig load(String yaml) throws Exception {
        return load(yaml, Map.of(), ConfigOverrides.none());
    }

    @Test
    void defaultsForANonRootUserWithoutFileOrEnvironment() {
        Path home = dir.resolve("home");
        ServerConfig config = ServerConfigLoader.load(Optional.empty(), ConfigEnvironment.of(Map.of(), home), ConfigOverrides.none());
        Path data = home.resolve(".local/share/sigil");
        assertThat(config.dataDir()).isEqualTo(data);
        assertThat(config.trustDomain().name()).isEqualTo("sigil.test");
        assertThat(config.logLevel()).isEqualTo(ServerConfig.LogLevel.INFO);
        assertThat(config.datastore()).isEqualTo(new ServerConfig.Sqlite(data.resolve("datastore.sqlite3")));
        assertThat(config.keyManager().type()).isEqualTo("disk");
        assertThat(config.keyManager().settings(dev.sigil.server.keys.DiskKeyManagerPlugin.Settings.class).directory(config.dataDir()))
                .isEqualTo(data.resolve("keys"));
        assertThat(config.ca()).isEqualTo(new ServerConfig.CaSettings(KeyType.EC_P256, Duration.ofHours(24), Optional.empty()));
        assertThat(config.jwt()).isEqualTo(new ServerConfig.JwtSettings(KeyType.EC_P256, Duration.ofHours(24), Optional.empty()));
        assertThat(config.defaultX509SvidTtl()).isEqualTo(Duration.ofHours(1));
        assertThat(config.defaultJwtSvidTtl()).isEqualTo(Duration.ofMinutes(5));
        assertThat(config.admin()).isEqualTo(new ServerConfig.AdminSettings(data.resolve("admin/admin.sock"), Optional.empty()));
        assertThat(config.bundleEndpoint()).isEqualTo(
                new ServerConfig.BundleEndpointSettings(true, "127.0.0.1", 8443, Duration.ofMinutes(5), Optional.empty()));
        assertThat(config.jwtIssuer()).isEqualTo(URI.create("https://127.0.0.1:8443"));
    }

    @Test
    void rootDefaultsToVarLibAndXdgDataHomeIsHonouredForOthers() {
        assertThat(new ConfigEnvironment(Map.of(), dir, true).defaultDataDir()).isEqualTo(Path.of("/var/lib/sigil"));
        assertThat(ConfigEnvironment.of(Map.of("XDG_DATA_HOME", "/srv/xdg"), dir).defaultDataDir()).isEqualTo(Path.of("/srv/xdg/sigil"));
        assertThat(ConfigEnvironment.of(Map.of("XDG_DATA_HOME", "relative"), dir).defaultDataDir()).isEqualTo(dir.resolve(".local/share/sigil"));
    }

    @Test
    void fullFileIsReadWithRelativePathsAgainstTheFilesDirectory() throws Exception {
        ServerConfig config = load("""
                data_dir: data
                trust_domain: example.org
                log_level: debug
                datastore:
                  type: postgresql
                  url: postgresql://db.internal:5432/sigil
                  user: sigil
                  max_pool_size: 20
                key_manager:
                  type: memory
                ca:
                  key_type: ec-p384
                  ttl: 7d
                  upstream:
                    cert_file: upstream/ca.pem
                    key_file: upstream/ca.key
                    bundle_file: upstream/roots.pem
                jwt:
                  key_type: rsa-2048
                  key_ttl: PT12H
                  issuer: https://oidc.example.org
                default_x509_svid_ttl: 30m
                default_jwt_svid_ttl: 90s
                admin:
                  socket_path: /run/sigil/admin.sock
                  tcp:
                    port: 9444
                bundle_endpoint:
                  address: 0.0.0.0
                  port: 443
                  refresh_hint: 10m
                  web_tls:
                    cert_file: web/fullchain.pem
                    key_file: ~/web/privkey.pem
                """);
        assertThat(config.dataDir()).isEqualTo(dir.resolve("data"));
        assertThat(config.trustDomain().name()).isEqualTo("example.org");
        assertThat(config.logLevel()).isEqualTo(ServerConfig.LogLevel.DEBUG);
        assertThat(config.datastore()).isEqualTo(new ServerConfig.Postgresql("jdbc:postgresql://db.internal:5432/sigil", "sigil", "", 20));
        assertThat(config.keyManager().type()).isEqualTo("memory");
        assertThat(config.ca()).isEqualTo(new ServerConfig.CaSettings(KeyType.EC_P384, Duration.ofDays(7),
                Optional.of(new ServerConfig.UpstreamSettings(dir.resolve("upstream/ca.pem"), dir.resolve("upstream/ca.key"),
                        Optional.of(dir.resolve("upstream/roots.pem"))))));
        assertThat(config.jwt()).isEqualTo(new ServerConfig.JwtSettings(KeyType.RSA_2048, Duration.ofHours(12),
                Optional.of(URI.create("https://oidc.example.org"))));
        assertThat(config.defaultX509SvidTtl()).isEqualTo(Duration.ofMinutes(30));
        assertThat(config.defaultJwtSvidTtl()).isEqualTo(Duration.ofSeconds(90));
        assertThat(config.admin()).isEqualTo(new ServerConfig.AdminSettings(Path.of("/run/sigil/admin.sock"),
                Optional.of(new ServerConfig.AdminTcpSettings("127.0.0.1", 9444))));
        assertThat(config.bundleEndpoint()).isEqualTo(new ServerConfig.BundleEndpointSettings(true, "0.0.0.0", 443, Duration.ofMinutes(10),
                Optional.of(new ServerConfig.WebTlsSettings(dir.resolve("web/fullchain.pem"), dir.resolve("home/web/privkey.pem")))));
        assertThat(config.jwtIssuer()).isEqualTo(URI.create("https://oidc.example.org"));
    }

    @Test
    void agentApiDefaultsToLoopback8081AndTakesItsSettings() throws Exception {
        assertThat(load("").agentApi()).isEqualTo(new ServerConfig.AgentApiSettings("127.0.0.1", 8081, Optional.empty()));
        ServerConfig config = load("agent_api:\n  address: 0.0.0.0\n  port: 0\n  agent_svid_ttl: 2h\n  x509pop:\n    ca_bundle_file: nodes.pem\n");
        assertThat(config.agentApi()).isEqualTo(new ServerConfig.AgentApiSettings("0.0.0.0", 0, Optional.of(java.time.Duration.ofHours(2))));
        assertThat(config.nodeAttestors().settings("x509pop", dev.sigil.server.agent.attestor.X509PopAttestorPlugin.Settings.class))
                .contains(new dev.sigil.server.agent.attestor.X509PopAttestorPlugin.Settings(dir.resolve("nodes.pem")));
        assertThat(load("", Map.of("SIGIL_AGENT_API_PORT", "9091"), ConfigOverrides.none()).agentApi().port()).isEqualTo(9091);
        assertThatThrownBy(() -> load("agent_api:\n  agent_svid_ttl: 48h\n")).hasMessageContaining("agent_api.agent_svid_ttl (2d) must be shorter than ca.ttl");
    }

    @Test
    void tokenEndpointDefaultsToLoopback8444AndTakesItsSettings() throws Exception {
        assertThat(load("").tokenEndpoint()).isEqualTo(new ServerConfig.TokenEndpointSettings(true, "127.0.0.1", 8444,
                Duration.ofMinutes(5), Optional.empty()));
        assertThat(load("token_endpoint:\n  address: 0.0.0.0\n  port: 0\n  default_ttl: 2m\n  audience: https://sts.example.org\n")
                .tokenEndpoint()).isEqualTo(new ServerConfig.TokenEndpointSettings(true, "0.0.0.0", 0, Duration.ofMinutes(2),
                Optional.of("https://sts.example.org")));
        assertThat(load("token_endpoint:\n  enabled: false\n").tokenEndpoint().enabled()).isFalse();
        assertThat(load("", Map.of("SIGIL_TOKEN_PORT", "9444"), ConfigOverrides.none()).tokenEndpoint().port()).isEqualTo(9444);
        assertThatThrownBy(() -> load("token_endpoint:\n  default_ttl: 48h\n")).hasMessageContaining("token_endpoint.default_ttl");
    }

    @Test
    void emptyFileGivesTheDefaults() throws Exception {
        assertThat(load("").trustDomain().name()).isEqualTo("sigil.test");
    }

    @Test
    void unknownKeyIsRefusedWithItsLineAndTheValidKeys() {
        assertThatThrownBy(() -> load("trust_domain: example.org\ndatastor:\n  type: sqlite\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(dir.resolve("sigil.yaml") + " line 2, column 1: unknown key 'datastor'; valid keys: admin, agent_api, audit, brokers, bundle_endpoint, ca,");
    }

    @Test
    void auditCheckpointSettingsDefaultAndCanBeSet() throws Exception {
        assertThat(load("").audit()).isEqualTo(new ServerConfig.AuditSettings(100, Duration.ofSeconds(10), Optional.empty()));
        assertThat(load("audit:\n  checkpoint_every: 500\n  checkpoint_interval: 1m\n").audit())
                .isEqualTo(new ServerConfig.AuditSettings(500, Duration.ofMinutes(1), Optional.empty()));
        assertThat(load("audit:\n  jsonl_file: /var/log/sigil/audit.jsonl\n").audit().jsonlFile())
                .contains(java.nio.file.Path.of("/var/log/sigil/audit.jsonl"));
        assertThatThrownBy(() -> load("audit:\n  checkpoint_every: 0\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("audit.checkpoint_every must be at least 1, got 0");
    }

    @Test
    void nestedUnknownKeyNamesItsParent() {
        assertThatThrownBy(() -> load("datastore:\n  type: sqlite\n  pasword: x\n"))
                .hasMessageEndingWith("line 3, column 3: unknown key 'pasword' under 'datastore'; valid keys: file, max_pool_size, password, type, url, user");
    }

    @Test
    void badDurationNamesTheKeyTheLineAndTheValidForms() {
        assertThatThrownBy(() -> load("ca:\n  ttl: 5x\n"))
                .hasMessage(dir.resolve("sigil.yaml") + " line 2, column 8: key 'ca.ttl': '5x' is not a duration; "
                        + "use a number with a unit s, m, h or d (30s, 5m, 1h, 7d, 1h30m) or iso-8601 (PT1H)");
    }

    @Test
    void badEnumAndWrongTypeNameTheKeyAndWhatIsValid() {
        assertThatThrownBy(() -> load("key_manager:\n  type: hsm\n"))
                .hasMessageEndingWith("line 2, column 3: key_manager.type 'hsm' is not valid; use disk or memory or pkcs11");
        assertThatThrownBy(() -> load("key_manager:\n  type: memory\n  dir: /keys\n"))
                .hasMessageEndingWith("line 3, column 3: unknown key 'dir' under 'key_manager'; valid keys: type");
        assertThatThrownBy(() -> load("bundle_endpoint:\n  port: https\n"))
                .hasMessageEndingWith("key 'bundle_endpoint.port' must be a whole number");
        assertThatThrownBy(() -> load("bundle_endpoint:\n  port: 70000\n"))
                .hasMessageEndingWith("bundle_endpoint.port is 70000; use 1 to 65535 (or 0 for any free port)");
        assertThatThrownBy(() -> load("trust_domain: Example.org\n"))
                .hasMessageContaining("line 1, column 15: key 'trust_domain': trust domain 'Example.org' has the character 'E'");
    }

    @Test
    void duplicateKeyIsRefused() {
        assertThatThrownBy(() -> load("log_level: info\nlog_level: debug\n")).hasMessageContaining("duplicate key 'log_level'");
    }

    @Test
    void environmentOverridesTheFileAndFlagsOverrideTheEnvironment() throws Exception {
        String yaml = "data_dir: /srv/file\ntrust_domain: file.example\nlog_level: warn\nbundle_endpoint:\n  port: 1443\n";
        Map<String, String> env = Map.of(
                "SIGIL_DATA_DIR", "/srv/env",
                "SIGIL_TRUST_DOMAIN", "env.example",
                "SIGIL_LOG_LEVEL", "ERROR",
                "SIGIL_BUNDLE_PORT", "2443",
                "SIGIL_ADMIN_SOCKET", "/run/env.sock");
        ServerConfig fromEnv = load(yaml, env, ConfigOverrides.none());
        assertThat(fromEnv.dataDir()).isEqualTo(Path.of("/srv/env"));
        assertThat(fromEnv.trustDomain().name()).isEqualTo("env.example");
        assertThat(fromEnv.logLevel()).isEqualTo(ServerConfig.LogLevel.ERROR);
        assertThat(fromEnv.bundleEndpoint().port()).isEqualTo(2443);
        assertThat(fromEnv.admin().socketPath()).isEqualTo(Path.of("/run/env.sock"));
        assertThat(fromEnv.datastore()).isEqualTo(new ServerConfig.Sqlite(Path.of("/srv/env/datastore.sqlite3")));

        ServerConfig fromFlags = load(yaml, env, ConfigOverrides.none().withDataDir(Path.of("/srv/flag"))
                .withTrustDomain("flag.example").withLogLevel("trace").withAdminSocket(Path.of("/run/flag.sock")));
        assertThat(fromFlags.dataDir()).isEqualTo(Path.of("/srv/flag"));
        assertThat(fromFlags.trustDomain().name()).isEqualTo("flag.example");
        assertThat(fromFlags.logLevel()).isEqualTo(ServerConfig.LogLevel.TRACE);
        assertThat(fromFlags.admin().socketPath()).isEqualTo(Path.of("/run/flag.sock"));
    }

    @Test
    void dataDirFromTheEnvironmentMovesEveryDerivedPath() throws Exception {
        ServerConfig config = load("", Map.of("SIGIL_DATA_DIR", "/srv/sigil"), ConfigOverrides.none());
        assertThat(config.admin().socketPath()).isEqualTo(Path.of("/srv/sigil/admin/admin.sock"));
        assertThat(config.keyManager().settings(dev.sigil.server.keys.DiskKeyManagerPlugin.Settings.class).directory(config.dataDir()))
                .isEqualTo(Path.of("/srv/sigil/keys"));
    }

    @Test
    void datastoreUrlFromTheEnvironmentSelectsPostgresqlAndThePasswordIsNeverPrinted() throws Exception {
        ServerConfig config = load("", Map.of("SIGIL_DATASTORE_URL", "postgres://db:5432/sigil",
                "SIGIL_DATASTORE_USER", "svc", "SIGIL_DATASTORE_PASSWORD", "hunter2"), ConfigOverrides.none());
        assertThat(config.datastore()).isEqualTo(new ServerConfig.Postgresql("jdbc:postgresql://db:5432/sigil", "svc", "hunter2", 10));
        assertThat(config.toString()).doesNotContain("hunter2").contains("password=<redacted>");
        assertThat(config.datastore().toDatastoreConfig().toString()).doesNotContain("hunter2");
    }

    @Test
    void invalidEnvironmentValueNamesTheVariable() {
        assertThatThrownBy(() -> load("", Map.of("SIGIL_BUNDLE_PORT", "eighty"), ConfigOverrides.none()))
                .hasMessage("environment variable SIGIL_BUNDLE_PORT: 'eighty' is not a port; use 1 to 65535");
        assertThatThrownBy(() -> load("", Map.of("SIGIL_LOG_LEVEL", "loud"), ConfigOverrides.none()))
                .hasMessage("environment variable SIGIL_LOG_LEVEL: log level 'loud' is not valid; use trace, debug, info, warn or error");
    }

    @Test
    void inconsistentSettingsAreRefusedNamingTheKeys() {
        assertThatThrownBy(() -> load("default_x509_svid_ttl: 2d\n"))
                .hasMessageEndingWith("default_x509_svid_ttl (2d) must be shorter than ca.ttl (1d); an svid cannot outlive its ca");
        assertThatThrownBy(() -> load("datastore:\n  type: postgresql\n"))
                .hasMessageEndingWith("datastore.url is required with datastore.type postgresql (or set SIGIL_DATASTORE_URL)");
        assertThatThrownBy(() -> load("datastore:\n  url: postgresql://db/sigil\n"))
                .hasMessageEndingWith("datastore.url is only used with datastore.type postgresql (the type is sqlite)");
        assertThatThrownBy(() -> load("datastore:\n  type: postgresql\n  url: postgresql://u:p@db/sigil\n"))
                .hasMessageEndingWith("datastore.url must not contain a user or password; use datastore.user and SIGIL_DATASTORE_PASSWORD");
        assertThatThrownBy(() -> load("jwt:\n  issuer: http://plain.example\n"))
                .hasMessageEndingWith("jwt.issuer 'http://plain.example' must be an https url with a host and no query or fragment");
    }

    @Test
    void missingFileIsReportedByName() {
        Path missing = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> ServerConfigLoader.load(Optional.of(missing), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none()))
                .hasMessage("configuration file " + missing + " does not exist");
    }
}
