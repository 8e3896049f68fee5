package dev.sigil.server.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.sigil.core.Printable;
import dev.sigil.core.spiffeid.InvalidSpiffeIdException;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.http.ErrorCode;
import dev.sigil.server.http.JsonResponses;
import dev.sigil.server.tls.ServerTls;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API's single Jetty handler: establishes the {@link Actor} from the transport (Unix socket
 * peer, or an authorized X.509-SVID), routes, enforces the body limit and media type, runs the route
 * handler and answers every outcome, including failures, as JSON. Default deny: a request on any
 * connector other than the Unix socket must carry a verified SVID whose SPIFFE ID is an admin.
 */
final class AdminHandler extends Handler.Abstract {
    private static final Logger LOG = LoggerFactory.getLogger(AdminHandler.class);

    private final Routes routes;
    private final ExceptionMapper mapper;
    private final AdminAuthorizer authorizer;
    private final long maxBodyBytes;
    private final Clock clock;
    private final Optional<BrowserFrontEnd> console;
    private volatile Connector unixConnector;

    AdminHandler(Routes routes, ExceptionMapper mapper, AdminAuthorizer authorizer, long maxBodyBytes, Clock clock) {
        this(routes, mapper, authorizer, maxBodyBytes, clock, Optional.empty());
    }

    AdminHandler(Routes routes, ExceptionMapper mapper, AdminAuthorizer authorizer, long maxBodyBytes, Clock clock,
                 Optional<BrowserFrontEnd> console) {
        this.console = console;
        this.routes = routes;
        this.mapper = mapper;
        this.authorizer = authorizer;
        this.maxBodyBytes = maxBodyBytes;
        this.clock = clock;
    }

    void trustUnixConnector(Connector connector) {
        this.unixConnector = connector;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.getHeaders().put("X-Content-Type-Options", "nosniff");
        String method = request.getMethod().toUpperCase(Locale.ROOT);
        String path = request.getHttpURI().getDecodedPath();
        Actor actor = null;
        try {
            actor = authenticate(request);
            if (console.isPresent() && BrowserFrontEnd.owns(path)) {
                // the transport's authentication above holds for the console too; it adds a session on top
                console.get().serve(request, response, callback, actor, this::call);
                return true;
            }
            Routed routed = route(request, response, method, path, actor);
            Reply reply = dispatch(routed.handler(), routed.request(), mapper);
            send(response, callback, reply);
            LOG.debug("admin {} {} by {} -> {}", method, path, actor.describe(), reply.status());
        } catch (ApiException e) {
            LOG.debug("admin {} {} by {} -> {} {}", method, path, actor == null ? "?" : actor.describe(), e.code().wireName(), e.getMessage());
            sendError(response, callback, e);
        } catch (RuntimeException | Error e) {
            String incident = UUID.randomUUID().toString().substring(0, 8);
            LOG.error("admin {} {} failed (incident {})", method, path, incident, e);
            JsonResponses.sendError(response, callback, ErrorCode.INTERNAL,
                    "internal error (incident " + incident + "); details are in the server log");
        }
        return true;
    }

    private Actor authenticate(Request request) {
        Connector connector = request.getConnectionMetaData().getConnector();
        if (connector != null && connector == unixConnector) {
            return PeerCredentials.of(request);
        }
        X509Certificate[] certificates = null;
        if (request.getAttribute(EndPoint.SslSessionData.ATTRIBUTE) instanceof EndPoint.SslSessionData ssl) {
            certificates = ssl.peerCertificates();
        }
        if (certificates == null || certificates.length == 0) {
            throw new ApiException(ErrorCode.UNAUTHENTICATED, "a client certificate (x509-svid) is required on this listener");
        }
        try {
            // A resumed TLS session skips the handshake's validation: re-check the lifetime per request.
            certificates[0].checkValidity(Date.from(clock.instant()));
        } catch (CertificateException e) {
            throw new ApiException(ErrorCode.UNAUTHENTICATED, "the client certificate is expired or not yet valid");
        }
        Optional<SpiffeId> id = ServerTls.spiffeIdOf(certificates[0]);
        if (id.isEmpty()) {
            throw new ApiException(ErrorCode.UNAUTHENTICATED, "the client certificate has no single spiffe id uri san");
        }
        boolean admin;
        try {
            admin = authorizer.isAdmin(id.get());
        } catch (RuntimeException e) {
            LOG.warn("admin authorizer failed for {}; refusing", id.get(), e);
            admin = false;
        }
        if (!admin) {
            throw ApiException.permissionDenied("spiffe id " + id.get() + " is not authorized to use the admin api");
        }
        return new Actor.Svid(id.get());
    }

    private record Routed(RouteHandler handler, AdminRequest request) {
    }

    private Routed route(Request request, Response response, String method, String path, Actor actor) {
        return switch (routes.match(method, path)) {
            case Routes.Match.NoRoute ignored -> throw noRoute(method, path);
            case Routes.Match.WrongMethod wrong -> {
                response.getHeaders().put(HttpHeader.ALLOW, allowed(wrong));
                throw wrongMethod(method, path, wrong);
            }
            case Routes.Match.Found found -> new Routed(found.route().handler(),
                    new AdminRequest(method, path, found.parameters(), query(request), readBody(request), actor));
        };
    }

    /**
     * Routes and runs a call whose transport part is done (caller known, path decoded, query parsed, body
     * read), exactly as {@link #handle} continues from there. Throws what becomes an error response.
     */
    Reply call(String method, String path, Map<String, List<String>> query, byte[] body, Actor actor) {
        return switch (routes.match(method, path)) {
            case Routes.Match.NoRoute ignored -> throw noRoute(method, path);
            case Routes.Match.WrongMethod wrong -> throw wrongMethod(method, path, wrong);
            case Routes.Match.Found found -> dispatch(found.route().handler(),
                    new AdminRequest(method, path, found.parameters(), query, body, actor), mapper);
        };
    }

    private static ApiException noRoute(String method, String path) {
        return ApiException.notFound("no admin api route for " + Printable.clip(method) + " " + Printable.clip(path));
    }

    private static ApiException wrongMethod(String method, String path, Routes.Match.WrongMethod wrong) {
        return new ApiException(ErrorCode.METHOD_NOT_ALLOWED, "method " + Printable.clip(method) + " is not allowed on " + Printable.clip(path) + "; allowed: " + allowed(wrong));
    }

    private static String allowed(Routes.Match.WrongMethod wrong) {
        return String.join(", ", new java.util.TreeSet<>(wrong.allowed()));
    }

    /**
     * Runs a route handler: its {@link ApiException}s and invalid SPIFFE IDs become API errors, other
     * exceptions go through {@code mapper}; what no mapper knows is rethrown (and answered as a 500).
     */
    static Reply dispatch(RouteHandler handler, AdminRequest request, ExceptionMapper mapper) {
        try {
            Reply reply = handler.handle(request);
            if (reply == null) {
                throw new IllegalStateException("route handler for " + request.method() + " " + request.path() + " returned null");
            }
            return reply;
        } catch (ApiException e) {
            throw e;
        } catch (InvalidSpiffeIdException e) {
            throw ApiException.invalidArgument(e.getMessage());
        } catch (RuntimeException e) {
            Optional<ApiException> mapped = mapper.map(e);
            if (mapped.isPresent()) {
                throw mapped.get();
            }
            throw e;
        }
    }

    private static Map<String, List<String>> query(Request request) {
        try {
            Fields fields = Request.extractQueryParameters(request, StandardCharsets.UTF_8);
            Map<String, List<String>> query = new LinkedHashMap<>();
            for (Fields.Field field : fields) {
                query.put(field.getName(), List.copyOf(field.getValues()));
            }
            return query;
        } catch (RuntimeException e) {
            throw ApiException.invalidArgument("the query string is malformed; expected url-encoded name=value pairs");
        }
    }

    private byte[] readBody(Request request) {
        long declared = request.getLength();
        if (declared > maxBodyBytes) {
            throw tooLarge();
        }
        String contentType = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        boolean mayHaveBody = declared > 0 || (declared < 0 && request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING));
        if (!mayHaveBody) {
            return new byte[0];
        }
        if (contentType == null || !isJson(contentType)) {
            throw new ApiException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "request body has content type '"
                    + (contentType == null ? "none" : contentType) + "'; send application/json");
        }
        try (InputStream in = Content.Source.asInputStream(request)) {
            byte[] body = in.readNBytes((int) maxBodyBytes + 1);
            if (body.length > maxBodyBytes) {
                throw tooLarge();
            }
            return body;
        } catch (IOException e) {
            throw ApiException.invalidArgument("request body cannot be read: the client closed the connection or sent a malformed body");
        }
    }

    private ApiException tooLarge() {
        return new ApiException(ErrorCode.PAYLOAD_TOO_LARGE, "request body is larger than " + maxBodyBytes + " bytes");
    }

    private static boolean isJson(String contentType) {
        String type = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        return type.equals("application/json");
    }

    private static void send(Response response, Callback callback, Reply reply) {
        if (reply.body().isEmpty()) {
            response.setStatus(reply.status());
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0);
            response.write(true, null, callback);
            return;
        }
        if (reply.body().get() instanceof PlainText text) {
            byte[] bytes = text.text().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            response.setStatus(reply.status());
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
            response.write(true, java.nio.ByteBuffer.wrap(bytes), callback);
            return;
        }
        String json;
        try {
            json = ApiJson.shared().writeValueAsString(reply.body().get());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize the reply body as json: " + e.getOriginalMessage(), e);
        }
        JsonResponses.send(response, callback, reply.status(), json);
    }

    private static void sendError(Response response, Callback callback, ApiException e) {
        if (e.code() == ErrorCode.PAYLOAD_TOO_LARGE) {
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
        }
        JsonResponses.sendError(response, callback, e.code(), e.getMessage());
    }
}
