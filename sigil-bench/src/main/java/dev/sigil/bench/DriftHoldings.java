package dev.sigil.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.credential.LeaseState;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the drifting workload holds in {@link DriftBench}'s revocation trials: an access token from a
 * real token exchange over HTTPS and a PostgreSQL credential leased through the lease service, both
 * obtained with a JWT-SVID minted before the drift. Both are leases (the token's id is its jti), so
 * "everything revoked" is both leases in state {@code revoked}: the token's registry row and
 * status-list bit are set, and the PostgreSQL role is dropped with its sessions terminated.
 */
final class DriftHoldings {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SigilServer server;
    private final HttpClient client;

    DriftHoldings(SigilServer server) throws Exception {
        this.server = server;
        System.setProperty("jdk.internal.httpclient.disableHostnameVerification", "true");
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .sslContext(TokenExchangeBench.trusting(server.authority().bundle().x509Authorities())).build();
    }

    /**
     * Obtains a token and a PostgreSQL credential for {@code holder}; returns their lease ids. Right
     * after the previous trial's drift the holder's gate refuses SVIDs minted in the drift's second,
     * as it should; then this waits for the next second and mints again.
     */
    List<LeaseId> obtain(String holder) throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                return obtainOnce(holder);
            } catch (IllegalStateException refused) {
                if (attempt == 3 || !refused.getMessage().contains("drifted")) {
                    throw refused;
                }
                Thread.sleep(1_000 - System.currentTimeMillis() % 1_000 + 10);
            }
        }
    }

    private List<LeaseId> obtainOnce(String holder) throws Exception {
        String svid = server.authority().mintJwtSvid(SpiffeId.parse(holder), Audience.of(server.tokenAudience()), Duration.ofMinutes(5))
                .token();
        String form = "grant_type=" + enc("urn:ietf:params:oauth:grant-type:token-exchange") + "&subject_token_type="
                + enc("urn:ietf:params:oauth:token-type:jwt") + "&subject_token=" + svid + "&audience=" + enc("https://api.bench.test");
        HttpResponse<String> reply = client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:"
                        + server.tokenEndpointAddress().orElseThrow().getPort() + "/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (reply.statusCode() != 200) {
            throw new IllegalStateException("token exchange: " + reply.statusCode() + " " + reply.body());
        }
        String jti = SignedJWT.parse(JSON.readTree(reply.body()).path("access_token").asText()).getJWTClaimsSet().getJWTID();
        LeaseService.Issued issued = server.leases().issue(new LeaseService.IssueRequest(SpiffeId.parse(holder), false, List.of(),
                "postgresql", "reports", Optional.empty(), Optional.empty(), Map.of()));
        return List.of(LeaseId.parse(jti), issued.lease().id());
    }

    boolean allRevoked(List<LeaseId> leases) {
        return leases.stream().allMatch(id -> server.leases().find(id).map(l -> l.state() == LeaseState.REVOKED).orElse(false));
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
