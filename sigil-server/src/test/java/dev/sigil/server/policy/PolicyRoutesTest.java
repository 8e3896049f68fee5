package dev.sigil.server.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.server.admin.AdminApi;
import dev.sigil.server.admin.AdminServer;
import dev.sigil.server.admin.ReadinessCheck;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.DatastoreConfig;
import dev.sigil.server.datastore.DatastoreContract;
import dev.sigil.server.testing.RawHttp;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PolicyRoutesTest extends DatastoreContract {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ALLOW_WEB = """
            rules:
              - name: web-to-api
                effect: allow
                subject: {spiffe_id: spiffe://td/web}
                actions: [token:exchange]
                resources: [https://api]
                obligations: {max_ttl: 5m}
            """;
    private AdminServer server;
    private Path socket;

    @Override
    protected DatastoreConfig newDatabase() {
        return sqliteIn(tmp);
    }

    @BeforeEach
    void start() {
        socket = tmp.resolve("admin.sock");
        PolicyStore store = new PolicyStore(datastore, AuditTrail.create(datastore, clock), clock);
        server = AdminServer.create(AdminServer.Options.unixSocket(socket),
                new AdminApi(new PolicyRoutes(store, clock).routes(), ReadinessCheck.alwaysReady(),
                        exception -> Optional.empty()), clock);
        server.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private RawHttp.Reply call(String method, String path, Object body) throws Exception {
        return RawHttp.unix(socket, method, path, "application/json",
                JSON.writeValueAsString(body).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void appliedPolicyIsShownAndDecides() throws Exception {
        RawHttp.Reply applied = call("PUT", "/v1/policy", Map.of("yaml", ALLOW_WEB));
        assertThat(applied.status()).isEqualTo(200);
        assertThat(JSON.readTree(applied.body()).get("version").asLong()).isEqualTo(1);
        assertThat(JSON.readTree(applied.body()).get("rules").asInt()).isEqualTo(1);

        RawHttp.Reply shown = RawHttp.unix(socket, "GET", "/v1/policy");
        assertThat(JSON.readTree(shown.body()).get("yaml").asText()).isEqualTo(ALLOW_WEB);

        RawHttp.Reply decided = call("POST", "/v1/policy/decide", Map.of("subject", "spiffe://td/web",
                "action", "token:exchange", "resource", "https://api", "trust_level", 1));
        assertThat(decided.status()).as(decided.body()).isEqualTo(200);
        assertThat(JSON.readTree(decided.body()).get("decision").asText()).isEqualTo("allow");
        assertThat(JSON.readTree(decided.body()).at("/obligations/max_ttl_seconds").asLong()).isEqualTo(300);
    }

    @Test
    void invalidPolicyIsRefusedWithLineAndReason() throws Exception {
        RawHttp.Reply refused = call("PUT", "/v1/policy", Map.of("yaml", ALLOW_WEB + "    colour: blue\n"));

        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.body()).contains("line 8").contains("unknown field 'colour'");
        assertThat(JSON.readTree(RawHttp.unix(socket, "GET", "/v1/policy").body()).get("version").asLong()).isZero();
    }
}
