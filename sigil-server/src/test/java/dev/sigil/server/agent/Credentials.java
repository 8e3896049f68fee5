package dev.sigil.server.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.server.testing.TestPki;
import dev.sigil.testkit.PostgresServer;
import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.zip.Inflater;
import javax.net.ssl.SSLContext;

/**
 * What a workload holds in the drift scenario: an access token from token exchange and a PostgreSQL
 * credential from {@code POST /v1/credentials}, both obtained with a JWT-SVID minted before the drift;
 * and the checks a relying party or the database would make of them.
 */
public record Credentials(String accessToken, String pgUrl, String pgUser, String pgPassword, String statusUri, long statusIdx) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static Credentials obtain(SigilServer server, String holder) throws Exception {
        SSLContext tls = TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0));
        String svid = server.authority().mintJwtSvid(SpiffeId.parse(holder), Audience.of(server.tokenAudience()), Duration.ofMinutes(5))
                .token();
        String form = "grant_type=" + enc("urn:ietf:params:oauth:grant-type:token-exchange") + "&subject_token_type="
                + enc("urn:ietf:params:oauth:token-type:jwt") + "&subject_token=" + svid + "&audience=" + enc("https://api.example.org");
        RawHttp.Reply exchanged = RawHttp.tls(tls, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/token",
                "application/x-www-form-urlencoded", form.getBytes(StandardCharsets.UTF_8), Map.of());
        if (exchanged.status() != 200) {
            throw new AssertionError("token exchange: " + exchanged.status() + " " + exchanged.body());
        }
        String accessToken = JSON.readTree(exchanged.body()).path("access_token").asText();
        JsonNode status = JSON.readTree(SignedJWT.parse(accessToken).getJWTClaimsSet().toString()).path("status").path("status_list");
        RawHttp.Reply issued = RawHttp.tls(tls, server.tokenEndpointAddress().orElseThrow(), "POST", "/v1/credentials", "application/json",
                "{\"broker\":\"postgresql\",\"resource\":\"reports\"}".getBytes(StandardCharsets.UTF_8), Map.of("Authorization", "Bearer " + svid));
        if (issued.status() != 200) {
            throw new AssertionError("credential: " + issued.status() + " " + issued.body());
        }
        JsonNode credential = JSON.readTree(issued.body()).path("credential");
        return new Credentials(accessToken, credential.path("url").asText(), credential.path("username").asText(),
                credential.path("password").asText(), status.path("uri").asText(), status.path("idx").asLong());
    }

    public boolean reads(Connection session) {
        try (Statement statement = session.createStatement(); ResultSet rows = statement.executeQuery("SELECT x FROM visible")) {
            return rows.next() && rows.getInt(1) == 42;
        } catch (SQLException e) {
            return false;
        }
    }

    public boolean roleExists(PostgresServer.Database database) throws SQLException {
        try (Connection su = DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
             Statement statement = su.createStatement();
             ResultSet rows = statement.executeQuery("SELECT count(*) FROM pg_roles WHERE rolname = '" + pgUser + "'")) {
            rows.next();
            return rows.getInt(1) > 0;
        }
    }

    public boolean tokenActive(SigilServer server) throws Exception {
        SSLContext tls = TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0));
        // introspected by the token's holder, who may always introspect its own token
        String caller = server.authority().mintJwtSvid(SpiffeId.parse(SignedJWT.parse(accessToken).getJWTClaimsSet().getSubject()),
                Audience.of(server.tokenAudience()), Duration.ofMinutes(5)).token();
        RawHttp.Reply reply = RawHttp.tls(tls, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/introspect",
                "application/x-www-form-urlencoded", ("token=" + enc(accessToken)).getBytes(StandardCharsets.UTF_8),
                Map.of("Authorization", "Bearer " + caller));
        return JSON.readTree(reply.body()).path("active").asBoolean();
    }

    /** Reads the token's bit from its status list as an offline relying party would (signature checked elsewhere). */
    public boolean tokenMarked(SigilServer server) throws Exception {
        SSLContext tls = TestPki.clientContext(null, server.authority().bundle().x509Authorities().get(0));
        RawHttp.Reply reply = RawHttp.tls(tls, server.bundleEndpointAddress().orElseThrow(), "GET",
                statusUri.substring(statusUri.indexOf("/statuslists/")));
        JsonNode list = JSON.readTree(SignedJWT.parse(reply.body().trim()).getJWTClaimsSet().toString()).path("status_list");
        Inflater inflater = new Inflater();
        inflater.setInput(Base64.getUrlDecoder().decode(list.path("lst").asText()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        while (!inflater.finished()) {
            out.write(buffer, 0, inflater.inflate(buffer));
        }
        inflater.end();
        byte[] bits = out.toByteArray();
        return (bits[(int) (statusIdx / 8)] & (1 << (statusIdx % 8))) != 0;
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
