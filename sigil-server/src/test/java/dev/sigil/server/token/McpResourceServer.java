package dev.sigil.server.token;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.server.tls.TlsIdentity;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.transport.HttpServletStatelessServerTransport;
import io.modelcontextprotocol.spec.McpSchema;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Date;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * An MCP server as a team would run one behind Sigil: the official Java SDK's stateless streamable HTTP
 * transport with one tool ({@code echo}), served over HTTPS on {@code https://localhost:<port>/mcp}, and
 * in front of it what the MCP authorization specification asks of a resource server: it publishes the RFC
 * 9728 metadata Sigil generated at {@code /.well-known/oauth-protected-resource/mcp}, answers a request
 * without a valid token with 401 and a {@code WWW-Authenticate} naming that document, and accepts only
 * Sigil access tokens ({@code typ at+jwt}, signed by a key of the trust domain's JWKS, unexpired) whose
 * {@code aud} is its own resource URI and whose scope holds {@code tools.call}.
 */
final class McpResourceServer implements AutoCloseable {
    static final String PATH = "/mcp";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Server jetty;
    private final String resource;
    private final String metadataUrl;

    /**
     * @param metadata the RFC 9728 document, as {@code sigil resource metadata} printed it
     * @param jwks     the trust domain's JWT signing keys (the bundle endpoint's {@code /keys})
     */
    McpResourceServer(TlsIdentity tls, int port, String name, Map<String, Object> metadata, Supplier<String> jwks) throws Exception {
        this.resource = (String) metadata.get("resource");
        this.jetty = new Server();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("server", tls.privateKey(), new char[0], tls.chain().toArray(Certificate[]::new));
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStore(keys);
        ssl.setKeyStorePassword("");
        HttpConfiguration https = new HttpConfiguration();
        https.addCustomizer(new SecureRequestCustomizer(false));
        ServerConnector connector = new ServerConnector(jetty, new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory(https));
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        jetty.addConnector(connector);

        HttpServletStatelessServerTransport transport = HttpServletStatelessServerTransport.builder().messageEndpoint(PATH).build();
        McpServer.sync(transport).serverInfo(name, "1.0")
                .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
                .toolCall(new McpSchema.Tool.Builder().name("echo").description("echoes text")
                                .inputSchema(McpJsonDefaults.getMapper(), "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}}}")
                                .build(),
                        (context, request) -> McpSchema.CallToolResult.builder()
                                .addTextContent(request.arguments().get("text") + " from " + name).build())
                .build();
        ServletContextHandler context = new ServletContextHandler();
        context.addServlet(new ServletHolder(transport), PATH);
        byte[] document = JSON.writeValueAsBytes(metadata);
        context.addServlet(new ServletHolder(new HttpServlet() {
            @Override
            protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                response.setContentType("application/json");
                response.getOutputStream().write(document);
            }
        }), "/.well-known/oauth-protected-resource" + PATH);
        context.addFilter(new FilterHolder(new BearerFilter(jwks)), PATH, EnumSet.of(DispatcherType.REQUEST));
        jetty.setHandler(context);
        jetty.start();
        this.metadataUrl = "https://localhost:" + connector.getLocalPort() + "/.well-known/oauth-protected-resource" + PATH;
    }

    String url() {
        return metadataUrl.replace("/.well-known/oauth-protected-resource" + PATH, PATH);
    }

    @Override
    public void close() throws Exception {
        jetty.stop();
    }

    /** The resource server's token check: what any relying party of Sigil access tokens must do, offline. */
    private final class BearerFilter implements Filter {
        private final Supplier<String> jwks;

        BearerFilter(Supplier<String> jwks) {
            this.jwks = jwks;
        }

        @Override
        public void doFilter(ServletRequest servletRequest, ServletResponse servletResponse, FilterChain chain) throws IOException,
                jakarta.servlet.ServletException {
            HttpServletRequest request = (HttpServletRequest) servletRequest;
            HttpServletResponse response = (HttpServletResponse) servletResponse;
            String authorization = request.getHeader("Authorization");
            if (authorization == null || !authorization.startsWith("Bearer ")) {
                refuse(response, 401, "Bearer resource_metadata=\"" + metadataUrl + "\"");
                return;
            }
            String problem = problem(authorization.substring(7).trim());
            if (problem != null) {
                refuse(response, problem.equals("insufficient_scope") ? 403 : 401, "Bearer error=\"" + (problem.equals("insufficient_scope")
                        ? "insufficient_scope\", scope=\"tools.call" : "invalid_token\", error_description=\"" + problem)
                        + "\", resource_metadata=\"" + metadataUrl + "\"");
                return;
            }
            chain.doFilter(servletRequest, servletResponse);
        }

        private String problem(String token) {
            try {
                SignedJWT jwt = SignedJWT.parse(token);
                if (!new JOSEObjectType("at+jwt").equals(jwt.getHeader().getType())) {
                    return "not an access token";
                }
                ECKey key = (ECKey) JWKSet.parse(jwks.get()).getKeyByKeyId(jwt.getHeader().getKeyID());
                if (key == null || !jwt.verify(new ECDSAVerifier(key))) {
                    return "bad signature";
                }
                JWTClaimsSet claims = jwt.getJWTClaimsSet();
                if (claims.getExpirationTime() == null || claims.getExpirationTime().before(new Date())) {
                    return "expired";
                }
                if (claims.getAudience() == null || !claims.getAudience().contains(resource)) {
                    return "token is for " + claims.getAudience() + ", not " + resource;
                }
                String scope = claims.getStringClaim("scope");
                if (scope == null || !List.of(scope.split(" ")).contains("tools.call")) {
                    return "insufficient_scope";
                }
                return null;
            } catch (Exception e) {
                return "unreadable token";
            }
        }

        private void refuse(HttpServletResponse response, int status, String challenge) throws IOException {
            response.setStatus(status);
            response.setHeader("WWW-Authenticate", challenge);
            response.setContentType("application/json");
            response.getOutputStream().write("{\"error\":\"unauthorized\"}".getBytes(StandardCharsets.UTF_8));
        }
    }
}
