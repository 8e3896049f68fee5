package dev.sigil.server.endpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.server.http.ErrorCode;
import dev.sigil.server.http.JsonResponses;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the public material: {@code /} and {@code /bundle} (SPIFFE bundle), {@code /keys} (JWKS) and
 * {@code /.well-known/openid-configuration}, token status lists at {@code /statuslists/<id>}
 * ({@code application/statuslist+jwt}) and {@code /ssh/user-ca.pub} (the SSH user CA public key as
 * text, when an ssh broker is configured). GET and HEAD only; responses may be cached for the bundle
 * refresh hint (status lists for the short time they say in {@code ttl}), errors never.
 */
final class BundleEndpointHandler extends Handler.Abstract {
    private static final Logger LOG = LoggerFactory.getLogger(BundleEndpointHandler.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String DISCOVERY_PATH = "/.well-known/openid-configuration";
    private static final java.util.regex.Pattern STATUS_LIST = java.util.regex.Pattern.compile("/statuslists/[0-9]{1,12}");
    static final String SSH_USER_CA_PATH = "/ssh/user-ca.pub";

    private final PublicMaterial material;
    private final String cacheControl;
    private final String issuer;
    private final String jwksUri;

    BundleEndpointHandler(PublicMaterial material, Duration refreshHint, URI issuer) {
        this.material = material;
        this.cacheControl = "public, max-age=" + Math.max(0, refreshHint.toSeconds());
        this.issuer = issuer.toString();
        String base = this.issuer.endsWith("/") ? this.issuer.substring(0, this.issuer.length() - 1) : this.issuer;
        this.jwksUri = base + "/keys";
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String path = request.getHttpURI().getDecodedPath();
        boolean statusList = STATUS_LIST.matcher(path).matches();
        boolean known = statusList || switch (path) {
            case "/", "/bundle", "/keys", DISCOVERY_PATH -> true;
            case SSH_USER_CA_PATH -> material.sshUserCaPublicKey().isPresent();
            default -> false;
        };
        response.getHeaders().put("X-Content-Type-Options", "nosniff");
        if (!known) {
            error(response, callback, ErrorCode.NOT_FOUND, "no such document: " + path
                    + "; served: /, /bundle, /keys, /statuslists/<id>, " + DISCOVERY_PATH
                    + (material.sshUserCaPublicKey().isPresent() ? ", " + SSH_USER_CA_PATH : ""));
            return true;
        }
        String method = request.getMethod();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
            error(response, callback, ErrorCode.METHOD_NOT_ALLOWED, "method " + method + " is not allowed; this endpoint is read-only (GET, HEAD)");
            return true;
        }
        String body;
        String contentType = JsonResponses.JSON;
        String caching = cacheControl;
        try {
            if (statusList) {
                java.util.Optional<String> list = material.statusList(Long.parseLong(path.substring("/statuslists/".length())));
                if (list.isEmpty()) {
                    error(response, callback, ErrorCode.NOT_FOUND, "no such status list: " + path);
                    return true;
                }
                body = list.get();
                contentType = "application/statuslist+jwt";
                caching = "public, max-age=1";
            } else {
                if (path.equals(SSH_USER_CA_PATH)) {
                    contentType = "text/plain; charset=utf-8";
                }
                body = switch (path) {
                    case "/keys" -> material.jwksJson();
                    case DISCOVERY_PATH -> discovery(material.signingAlgorithms());
                    case SSH_USER_CA_PATH -> material.sshUserCaPublicKey().orElseThrow() + "\n";
                    default -> material.bundleJson();
                };
            }
        } catch (IllegalStateException e) {
            LOG.warn("bundle endpoint cannot serve {} yet: {}", path, e.getMessage());
            error(response, callback, ErrorCode.UNAVAILABLE, "the trust bundle is not available yet; retry shortly");
            return true;
        } catch (RuntimeException e) {
            LOG.error("bundle endpoint failed to serve {}", path, e);
            error(response, callback, ErrorCode.INTERNAL, "internal error; details are in the server log");
            return true;
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, caching);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        response.write(true, method.equals("HEAD") ? null : ByteBuffer.wrap(bytes), callback);
        return true;
    }

    private String discovery(List<String> algorithms) {
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("issuer", issuer);
        document.put("jwks_uri", jwksUri);
        document.put("response_types_supported", List.of("id_token"));
        document.put("subject_types_supported", List.of("public"));
        document.put("id_token_signing_alg_values_supported", List.copyOf(algorithms));
        try {
            return JSON.writeValueAsString(document);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize the discovery document", e);
        }
    }

    private static void error(Response response, Callback callback, ErrorCode code, String message) {
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        JsonResponses.sendError(response, callback, code, message);
    }
}
