package dev.sigil.server.testing;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import dev.sigil.server.authority.Audience;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLContext;

/** RFC 8693 token exchanges against a test server's token endpoint over real HTTPS. */
public final class Exchanges {
    private Exchanges() {
    }

    /** A JWT-SVID for {@code spiffeId} with the token endpoint's audience, minted by the server's authority (no database). */
    public static String subjectToken(SigilServer server, String spiffeId) {
        return server.authority().mintJwtSvid(SpiffeId.parse(spiffeId), Audience.of(server.tokenAudience()), Duration.ofMinutes(5)).token();
    }

    /** A client context that trusts the server's X.509 root, without a client certificate. */
    public static SSLContext anonymous(SigilServer server) throws Exception {
        return TestPki.clientContext(null, server.authority().bundle().x509Authorities());
    }

    /** Exchanges {@code subjectToken} for an access token for {@code audience}; the reply as received. */
    public static RawHttp.Reply exchange(SigilServer server, SSLContext tls, String subjectToken, String audience) throws Exception {
        String body = "grant_type=" + URLEncoder.encode("urn:ietf:params:oauth:grant-type:token-exchange", StandardCharsets.UTF_8)
                + "&subject_token_type=" + URLEncoder.encode("urn:ietf:params:oauth:token-type:jwt", StandardCharsets.UTF_8)
                + "&subject_token=" + subjectToken + "&audience=" + URLEncoder.encode(audience, StandardCharsets.UTF_8);
        return RawHttp.tls(tls, server.tokenEndpointAddress().orElseThrow(), "POST", "/oauth2/token", "application/x-www-form-urlencoded",
                body.getBytes(StandardCharsets.UTF_8), Map.of());
    }
}
