package dev.sigil.server.credential;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Leases end to end through {@link SigilServer}: the workload route, the admin routes, and a restart. */
class CredentialEndpointTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SpiffeId WORKLOAD = SpiffeId.parse("spiffe://example.org/billing/job");
    private static final Decision ALLOW = new Decision.Allow(List.of("test allows"), Decision.Obligations.none());

    @TempDir
    Path dir;
    private final FakeBroker.Backend backend = new FakeBroker.Backend();
    private final AtomicReference<Decision> decision = new AtomicReference<>(ALLOW);
    private SigilServer server;

    private SigilServer start() throws Exception {
        return start(request -> decision.get());
    }

    private SigilServer start(PolicyEngine policy) throws Exception {
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                bundle_endpoint:
                  enabled: false
                agent_api:
                  port: 0
                token_endpoint:
                  port: 0
                """.formatted(dir.resolve("data")));
        ServerConfig config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
        server = SigilServer.start(config, Clock.systemUTC(), SigilServer.Options.defaults().withPolicy(policy)
                .withBrokers(List.of(new ConfiguredBroker(new FakeBroker(backend, true), Duration.ofMinutes(15), Duration.ofHours(1)))));
        return server;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private RawHttp.Reply request(String body, Optional<String> bearer) throws Exception {
        SSLContext anonymous = TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0));
        return RawHttp.tls(anonymous, server.tokenEndpointAddress().orElseThrow(), "POST", "/v1/credentials", "application/json",
                body.getBytes(StandardCharsets.UTF_8), bearer.map(b -> Map.of("Authorization", "Bearer " + b)).orElse(Map.of()));
    }

    private String jwtSvid() {
        return server.authority().mintJwtSvid(WORKLOAD, Audience.of(server.tokenAudience()), Duration.ofMinutes(5)).token();
    }

    private RawHttp.Reply admin(String method, String path, String json) throws Exception {
        return json == null ? RawHttp.unix(server.admin().socketPath(), method, path)
                : RawHttp.unix(server.admin().socketPath(), method, path, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void workloadGetsACredentialThatOperatorsSeeRenewAndRevoke() throws Exception {
        start();
        RawHttp.Reply reply = request("{\"broker\":\"fake\",\"resource\":\"db1\",\"ttl\":\"10m\"}", Optional.of(jwtSvid()));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        JsonNode issued = JSON.readTree(reply.body());
        String id = issued.path("lease_id").asText();
        String password = issued.path("credential").path("password").asText();
        assertThat(issued.path("broker").asText()).isEqualTo("fake");
        assertThat(backend.holds(LeaseId.parse(id))).isTrue();

        RawHttp.Reply list = admin("GET", "/v1/leases?holder=" + WORKLOAD, null);
        assertThat(list.status()).as(list.body()).isEqualTo(200);
        assertThat(list.body()).contains(id).contains("\"state\":\"active\"").doesNotContain(password);
        assertThat(admin("GET", "/v1/leases/" + id, null).body()).contains("\"resource\":\"db1\"");
        assertThat(admin("POST", "/v1/leases/" + id + "/renew", "{\"ttl\":\"20m\"}").status()).isEqualTo(200);
        RawHttp.Reply metrics = admin("GET", "/v1/metrics", null);
        assertThat(metrics.header("content-type")).startsWith("text/plain");
        assertThat(metrics.body()).contains("sigil_leases{state=\"active\"} 1").contains("sigil_lease_revocations_failing 0");

        RawHttp.Reply revoked = admin("POST", "/v1/leases/revoke", "{\"holder\":\"" + WORKLOAD + "\"}");
        assertThat(JSON.readTree(revoked.body()).path("requested").asInt()).as(revoked.body()).isEqualTo(1);
        assertThat(backend.granted).isEmpty();
        assertThat(admin("GET", "/v1/leases/" + id, null).body()).contains("\"state\":\"revoked\"");
    }

    @Test
    void deletingTheHoldersEntryRevokesItsLeasesWithinATick() throws Exception {
        start();
        RawHttp.Reply entry = admin("POST", "/v1/entries", "{\"spiffe_id\": \"" + WORKLOAD + "\", "
                + "\"parent_id\": \"spiffe://example.org/sigil/agent/join_token/n1\", "
                + "\"selectors\": [{\"type\": \"unix\", \"value\": \"uid:1000\"}], \"owner\": \"team-a\"}");
        assertThat(entry.status()).as(entry.body()).isEqualTo(201);
        String entryId = JSON.readTree(entry.body()).path("id").asText();
        JsonNode issued = JSON.readTree(request("{\"broker\":\"fake\",\"resource\":\"db1\"}", Optional.of(jwtSvid())).body());
        String id = issued.path("lease_id").asText();
        assertThat(admin("GET", "/v1/leases/" + id, null).body()).contains("spiffe://example.org/sigil/agent/join_token/n1");

        assertThat(admin("DELETE", "/v1/entries/" + entryId, null).status()).isEqualTo(204);

        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (backend.holds(LeaseId.parse(id)) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(backend.holds(LeaseId.parse(id))).as("backend credential after the entry was deleted").isFalse();
        assertThat(admin("GET", "/v1/audit?action=identity.withdraw", null).body()).contains(WORKLOAD.toString());
    }

    @Test
    void tokenExchangeNamingABrokerReturnsTheSameLeasedCredential() throws Exception {
        start();
        SSLContext anonymous = TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0));
        String form = "grant_type=" + java.net.URLEncoder.encode("urn:ietf:params:oauth:grant-type:token-exchange", StandardCharsets.UTF_8)
                + "&subject_token_type=" + java.net.URLEncoder.encode("urn:ietf:params:oauth:token-type:jwt", StandardCharsets.UTF_8)
                + "&subject_token=" + jwtSvid() + "&resource=db1&requested_token_type="
                + java.net.URLEncoder.encode("urn:sigil:params:oauth:token-type:credential:fake", StandardCharsets.UTF_8);
        RawHttp.Reply reply = RawHttp.tls(anonymous, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/token",
                "application/x-www-form-urlencoded", form.getBytes(StandardCharsets.UTF_8), Map.of());
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        JsonNode answer = JSON.readTree(reply.body());
        assertThat(answer.path("issued_token_type").asText()).isEqualTo("urn:sigil:params:oauth:token-type:credential:fake");
        assertThat(answer.path("token_type").asText()).isEqualTo("N_A");
        assertThat(JSON.readTree(answer.path("access_token").asText()).path("password").asText()).isNotEmpty();
        assertThat(backend.holds(LeaseId.parse(answer.path("lease_id").asText()))).isTrue();

        RawHttp.Reply unknown = RawHttp.tls(anonymous, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/token",
                "application/x-www-form-urlencoded", form.replace("%3Afake", "%3Avault").getBytes(StandardCharsets.UTF_8), Map.of());
        assertThat(unknown.status()).as(unknown.body()).isEqualTo(400);
        assertThat(unknown.body()).contains("vault");
    }

    @Test
    void brokeredExchangeIsRefusedWhenPolicyDeniesTheActor() throws Exception {
        SpiffeId actor = SpiffeId.parse("spiffe://example.org/agents/planner");
        start(request -> request.subject().equals(actor)
                ? new Decision.Deny(List.of("the planner may not hold database credentials")) : ALLOW);
        String actorToken = server.authority().mintJwtSvid(actor, Audience.of(server.tokenAudience()), Duration.ofMinutes(5)).token();
        SSLContext anonymous = TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0));
        String jwt = java.net.URLEncoder.encode("urn:ietf:params:oauth:token-type:jwt", StandardCharsets.UTF_8);
        String form = "grant_type=" + java.net.URLEncoder.encode("urn:ietf:params:oauth:grant-type:token-exchange", StandardCharsets.UTF_8)
                + "&subject_token_type=" + jwt + "&subject_token=" + jwtSvid() + "&actor_token_type=" + jwt + "&actor_token=" + actorToken
                + "&resource=db1&requested_token_type="
                + java.net.URLEncoder.encode("urn:sigil:params:oauth:token-type:credential:fake", StandardCharsets.UTF_8);

        RawHttp.Reply reply = RawHttp.tls(anonymous, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/token",
                "application/x-www-form-urlencoded", form.getBytes(StandardCharsets.UTF_8), Map.of());

        assertThat(reply.status()).as(reply.body()).isEqualTo(403);
        assertThat(JSON.readTree(reply.body()).path("error_description").asText()).contains(actor.toString())
                .contains("the planner may not hold database credentials");
        assertThat(backend.granted).as("backend credentials").isEmpty();
        assertThat(admin("GET", "/v1/leases?holder=" + WORKLOAD, null).body()).doesNotContain("\"state\":\"active\"");
        assertThat(admin("GET", "/v1/audit?action=credential.grant", null).body()).contains("\"outcome\":\"denied\"")
                .contains("the planner may not hold database credentials");
    }

    @Test
    void leakedPasswordRevokesItsLeaseAtOnce() throws Exception {
        start();
        JsonNode issued = JSON.readTree(request("{\"broker\":\"fake\",\"resource\":\"db2\"}", Optional.of(jwtSvid())).body());
        String password = issued.path("credential").path("password").asText();
        RawHttp.Reply leak = admin("POST", "/v1/leaks", "{\"value\":\"" + password + "\\n\",\"ban\":true}");
        assertThat(leak.status()).as(leak.body()).isEqualTo(200);
        assertThat(JSON.readTree(leak.body()).path("leases").get(0).asText()).isEqualTo(issued.path("lease_id").asText());
        assertThat(backend.granted).isEmpty();
        RawHttp.Reply unknown = admin("POST", "/v1/leaks", "{\"value\":\"00000000000000000000000000000000\"}");
        assertThat(JSON.readTree(unknown.body()).path("found").asBoolean()).isFalse();
    }

    @Test
    void clientMistakesAre4xxAndABackendOutageIs503() throws Exception {
        start();
        assertThat(request("{\"broker\":\"fake\",\"resource\":\"db1\"}", Optional.empty()).status()).isEqualTo(401);
        assertThat(request("{\"broker\":\"fake\",\"resource\":\"db1\"}", Optional.of("not-a-jwt")).status()).isEqualTo(401);
        RawHttp.Reply unknown = request("{\"broker\":\"vault\",\"resource\":\"db1\"}", Optional.of(jwtSvid()));
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(JSON.readTree(unknown.body()).path("error_description").asText()).contains("vault");
        assertThat(request("{\"broker\":\"fake\"}", Optional.of(jwtSvid())).status()).isEqualTo(400);
        assertThat(request("not json", Optional.of(jwtSvid())).status()).isEqualTo(400);
        decision.set(new Decision.Deny(List.of("no")));
        assertThat(request("{\"broker\":\"fake\",\"resource\":\"db1\"}", Optional.of(jwtSvid())).status()).isEqualTo(403);
        decision.set(ALLOW);
        backend.failing = true;
        RawHttp.Reply down = request("{\"broker\":\"fake\",\"resource\":\"db1\"}", Optional.of(jwtSvid()));
        assertThat(down.status()).as(down.body()).isEqualTo(503);
        // The worker's first attempt at cleaning the failed grant fails too, and shows.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!admin("GET", "/v1/metrics", null).body().contains("sigil_lease_revocations_failing 1") && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(admin("GET", "/v1/metrics", null).body()).contains("sigil_lease_revocations_failing 1")
                .contains("sigil_leases{state=\"revoking\"} 1");
    }

    @Test
    void serverKilledMidGrantLeavesNothingGrantedAfterRestart() throws Exception {
        start();
        backend.crashAfterGrant = true;
        assertThat(request("{\"broker\":\"fake\",\"resource\":\"db1\"}", Optional.of(jwtSvid())).status()).isEqualTo(503);
        assertThat(backend.granted).hasSize(1);
        LeaseId id = backend.granted.keySet().iterator().next();
        // Closing stops the listeners only; no lease is touched on the way down, as with a kill.
        server.close();
        backend.crashAfterGrant = false;

        start();
        assertThat(backend.granted).isEmpty();
        assertThat(server.leases().find(id).orElseThrow().state()).isEqualTo(LeaseState.REVOKED);
    }
}
