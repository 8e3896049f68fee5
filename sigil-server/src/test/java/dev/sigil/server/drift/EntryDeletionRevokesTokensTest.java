package dev.sigil.server.drift;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.server.SigilServer;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import dev.sigil.server.testing.TokenServerConfig;
import dev.sigil.testkit.Eventually;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deleting the entry of an identity that holds only tokens (a JWT-SVID, an access token), no lease, takes
 * them away like its leases would be: the JWT-SVID is refused as a subject token and the access token reads
 * inactive, through the real token endpoint. (Before, only holders of leases granted through an agent were
 * withdrawn.)
 */
class EntryDeletionRevokesTokensTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ID = "spiffe://example.org/reports/only-tokens";

    @TempDir
    Path dir;

    private SigilServer start() throws Exception {
        return SigilServer.start(TokenServerConfig.load(dir), Clock.systemUTC(),
                SigilServer.Options.defaults().withPolicy(request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none())));
    }

    private static RawHttp.Reply exchange(SigilServer server, String subjectToken) throws Exception {
        SSLContext anonymous = TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0));
        String body = "grant_type=" + enc("urn:ietf:params:oauth:grant-type:token-exchange") + "&subject_token_type="
                + enc("urn:ietf:params:oauth:token-type:jwt") + "&subject_token=" + enc(subjectToken) + "&audience=" + enc("https://api");
        return RawHttp.tls(anonymous, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/token",
                "application/x-www-form-urlencoded", body.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    @Test
    void deletingTheEntryOfAnIdentityHoldingOnlyTokensRevokesThem() throws Exception {
        String entryId;
        try (SigilServer first = start()) {
            RawHttp.Reply created = RawHttp.unix(first.admin().socketPath(), "POST", "/v1/entries", "application/json",
                    ("{\"spiffe_id\": \"" + ID + "\", \"parent_id\": \"spiffe://example.org/sigil/agent/join_token/n1\", "
                            + "\"selectors\": [{\"type\": \"unix\", \"value\": \"uid:1000\"}], \"owner\": \"team-reports\"}")
                            .getBytes(StandardCharsets.UTF_8));
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            entryId = JSON.readTree(created.body()).path("id").asText();
        }
        // a server that starts with the entry registered, as any server does once its agents hold svids
        try (SigilServer server = start()) {
            RawHttp.Reply minted = RawHttp.unix(server.admin().socketPath(), "POST", "/v1/svids/jwt", "application/json",
                    ("{\"spiffe_id\": \"" + ID + "\", \"audience\": [\"" + server.tokenAudience() + "\"]}").getBytes(StandardCharsets.UTF_8));
            assertThat(minted.status()).as(minted.body()).isEqualTo(200);
            String svid = JSON.readTree(minted.body()).path("token").asText();
            RawHttp.Reply before = exchange(server, svid);
            assertThat(before.status()).as("exchange before the entry is deleted: " + before.body()).isEqualTo(200);

            assertThat(RawHttp.unix(server.admin().socketPath(), "DELETE", "/v1/entries/" + entryId).status()).isEqualTo(204);

            Eventually.within(Duration.ofSeconds(10), () -> {
                RawHttp.Reply after = exchange(server, svid);
                assertThat(after.status()).as("exchange after the entry is deleted: " + after.body()).isBetween(400, 403);
                assertThat(after.body()).contains("revoked");
            });
            assertThat(RawHttp.unix(server.admin().socketPath(), "GET", "/v1/audit?action=identity.withdraw").body()).contains(ID)
                    .contains("no registration entry");
        }
    }
}
