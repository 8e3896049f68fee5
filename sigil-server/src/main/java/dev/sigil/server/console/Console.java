package dev.sigil.server.console;

import dev.sigil.core.Printable;
import dev.sigil.server.admin.Actor;
import dev.sigil.server.admin.ApiException;
import dev.sigil.server.admin.BrowserFrontEnd;
import dev.sigil.server.http.ErrorCode;
import gg.jte.ContentType;
import gg.jte.TemplateEngine;
import gg.jte.output.StringOutput;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import org.eclipse.jetty.http.HttpCookie;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web console: server-rendered pages under {@code /console} on the admin listeners.
 *
 * <p>Security properties:
 * <ul>
 *   <li>Every page but the login redemption and the two static files needs a session (a cookie from
 *       {@link ConsoleSessions}), even on the Unix socket: {@code sigil console} forwards a loopback port
 *       to the socket, so the socket's peer says nothing about who is at the browser.</li>
 *   <li>Every POST must carry the session's CSRF token and an {@code Origin} (or, without one, a
 *       {@code Referer}) of this very host; otherwise {@code 403} and nothing is done. The cookie is also
 *       {@code SameSite=Strict}, {@code HttpOnly}, {@code Path=/console} and {@code Secure} on TLS.</li>
 *   <li>It acts only through the admin API, as {@link Actor.Console} for the session's operator, so the
 *       audit trail names {@code console:<operator>}.</li>
 *   <li>Responses forbid framing, inline script and caching; every shown value is escaped by the
 *       template and clipped.</li>
 * </ul>
 */
public final class Console implements BrowserFrontEnd {
    private static final Logger LOG = LoggerFactory.getLogger(Console.class);
    static final String LOGIN_PATH = PATH + "/login";
    static final String COOKIE = "sigil_console";
    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";
    private static final int MAX_FORM_BYTES = 16 * 1024;

    private final ConsoleSessions sessions;
    private final TemplateEngine templates;

    public Console(ConsoleSessions sessions) {
        this.sessions = Objects.requireNonNull(sessions, "sessions");
        this.templates = TemplateEngine.createPrecompiled(null, ContentType.Html, Console.class.getClassLoader(),
                "dev.sigil.server.console.templates");
    }

    @Override
    public void serve(Request request, Response response, Callback callback, Actor transport, Calls api) {
        secure(response);
        String method = request.getMethod().toUpperCase(Locale.ROOT);
        String path = request.getHttpURI().getDecodedPath();
        try {
            if (method.equals("GET") && path.startsWith(PATH + "/static/")) {
                StaticFiles.send(path.substring((PATH + "/static/").length()), response, callback);
                return;
            }
            if (method.equals("GET") && path.equals(LOGIN_PATH)) {
                redeem(request, response, callback);
                return;
            }
            Optional<String> secret = cookie(request);
            Optional<ConsoleSessions.Session> session = secret.flatMap(sessions::find);
            if (session.isEmpty()) {
                sendPage(response, callback, 401, ConsolePages.signIn());
                return;
            }
            Page.SignedIn signedIn = new Page.SignedIn(session.get().operator().describe(), session.get().csrfToken());
            ConsolePages pages = new ConsolePages(api, new Actor.Console(session.get().operator()), signedIn);
            Map<String, String> query = query(request);
            switch (method) {
                case "GET" -> sendPage(response, callback, 200, pages.get(path, query));
                case "POST" -> {
                    Map<String, String> form = form(request);
                    refuseForgery(request, form, session.get());
                    if (path.equals(PATH + "/logout")) {
                        sessions.end(secret.get());
                        response.getHeaders().add(HttpHeader.SET_COOKIE, cookieHeader("", request.isSecure(), 0));
                        sendPage(response, callback, 200, ConsolePages.signedOut());
                        return;
                    }
                    switch (pages.post(path, form)) {
                        case ConsolePages.Outcome.Redirect redirect -> redirect(response, callback, redirect.location());
                        case ConsolePages.Outcome.Shown shown -> sendPage(response, callback, 200, shown.page());
                    }
                }
                default -> throw new ApiException(ErrorCode.METHOD_NOT_ALLOWED, "method " + Printable.clip(method)
                        + " is not allowed on the console; use get or post");
            }
        } catch (ApiException e) {
            sendPage(response, callback, e.code().httpStatus(), ConsolePages.error(e.code().httpStatus(), e.getMessage(), cookieSession(request)));
        } catch (RuntimeException e) {
            String incident = UUID.randomUUID().toString().substring(0, 8);
            LOG.error("console {} {} failed (incident {})", method, Printable.clip(path), incident, e);
            sendPage(response, callback, 500, ConsolePages.error(500, "internal error (incident " + incident
                    + "); details are in the server log", Optional.empty()));
        }
    }

    private Optional<Page.SignedIn> cookieSession(Request request) {
        return cookie(request).flatMap(sessions::find).map(s -> new Page.SignedIn(s.operator().describe(), s.csrfToken()));
    }

    private void redeem(Request request, Response response, Callback callback) {
        String code = query(request).getOrDefault("code", "");
        Optional<ConsoleSessions.Started> started = sessions.redeem(code);
        if (started.isEmpty()) {
            sendPage(response, callback, 403, ConsolePages.badCode());
            return;
        }
        // a session already in this browser is replaced, never joined
        cookie(request).ifPresent(sessions::end);
        response.getHeaders().add(HttpHeader.SET_COOKIE, cookieHeader(started.get().secret(), request.isSecure(), -1));
        LOG.info("console session started for {}", started.get().session().operator().describe());
        redirect(response, callback, PATH + "/");
    }

    /**
     * A forged POST is refused before anything runs: the form's token must be the session's (compared in
     * constant time), and the request must come from a page of this very origin.
     */
    private static void refuseForgery(Request request, Map<String, String> form, ConsoleSessions.Session session) {
        String expectedOrigin = (request.isSecure() ? "https://" : "http://") + request.getHeaders().get(HttpHeader.HOST);
        String origin = request.getHeaders().get(HttpHeader.ORIGIN);
        String referer = request.getHeaders().get(HttpHeader.REFERER);
        boolean sameOrigin = origin != null ? origin.equalsIgnoreCase(expectedOrigin)
                : referer != null && (referer.equalsIgnoreCase(expectedOrigin) || referer.regionMatches(true, 0, expectedOrigin + "/", 0, expectedOrigin.length() + 1));
        if (request.getHeaders().get(HttpHeader.HOST) == null || !sameOrigin) {
            throw ApiException.permissionDenied("this form was not sent from a console page of " + Printable.clip(expectedOrigin)
                    + " (origin '" + Printable.clip(String.valueOf(origin)) + "'); reload the page and try again");
        }
        String token = form.getOrDefault("csrf", "");
        if (!MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), session.csrfToken().getBytes(StandardCharsets.UTF_8))) {
            throw ApiException.permissionDenied("this form has no valid csrf token for your session; reload the page and try again");
        }
    }

    static String cookieHeader(String value, boolean secure, int maxAge) {
        return COOKIE + "=" + value + "; Path=" + PATH + "; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
                + (maxAge >= 0 ? "; Max-Age=" + maxAge : "");
    }

    private static Optional<String> cookie(Request request) {
        List<HttpCookie> cookies = Request.getCookies(request);
        return cookies.stream().filter(c -> c.getName().equals(COOKIE)).map(HttpCookie::getValue).filter(v -> !v.isEmpty()).findFirst();
    }

    private static void secure(Response response) {
        var headers = response.getHeaders();
        headers.put(HttpHeader.CACHE_CONTROL, "no-store");
        headers.put("X-Content-Type-Options", "nosniff");
        headers.put("X-Frame-Options", "DENY");
        headers.put("Content-Security-Policy", CSP);
        // same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on its own form posts
        headers.put("Referrer-Policy", "same-origin");
        headers.put("Cross-Origin-Opener-Policy", "same-origin");
        headers.put("Cross-Origin-Resource-Policy", "same-origin");
    }

    private static Map<String, String> query(Request request) {
        try {
            Fields fields = Request.extractQueryParameters(request, StandardCharsets.UTF_8);
            Map<String, String> query = new LinkedHashMap<>();
            for (Fields.Field field : fields) {
                query.put(field.getName(), field.getValue());
            }
            return query;
        } catch (RuntimeException e) {
            throw ApiException.invalidArgument("the query string is malformed; expected url-encoded name=value pairs");
        }
    }

    private static Map<String, String> form(Request request) {
        String type = Objects.requireNonNullElse(request.getHeaders().get(HttpHeader.CONTENT_TYPE), "");
        if (!type.split(";", 2)[0].trim().equalsIgnoreCase("application/x-www-form-urlencoded")) {
            throw new ApiException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "console forms are sent as application/x-www-form-urlencoded, not '"
                    + Printable.clip(type) + "'");
        }
        byte[] body;
        try (InputStream in = Content.Source.asInputStream(request)) {
            body = in.readNBytes(MAX_FORM_BYTES + 1);
        } catch (IOException e) {
            throw ApiException.invalidArgument("the form cannot be read: the browser closed the connection");
        }
        if (body.length > MAX_FORM_BYTES) {
            throw new ApiException(ErrorCode.PAYLOAD_TOO_LARGE, "the form is larger than " + MAX_FORM_BYTES + " bytes");
        }
        Map<String, String> form = new LinkedHashMap<>();
        String text = new String(body, StandardCharsets.UTF_8);
        try {
            for (String pair : text.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                form.putIfAbsent(name, value);
            }
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidArgument("the form is not valid url-encoded text");
        }
        return form;
    }

    private void sendPage(Response response, Callback callback, int status, Page page) {
        StringOutput output = new StringOutput();
        templates.render("page.jte", page, output);
        byte[] bytes = output.toString().getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/html; charset=utf-8");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }

    private static void redirect(Response response, Callback callback, String location) {
        response.setStatus(303);
        response.getHeaders().put(HttpHeader.LOCATION, location);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0);
        response.write(true, null, callback);
    }

    /** The console's two static files, from the class path; anything else is a 404. */
    private static final class StaticFiles {
        private static final Map<String, String> TYPES = Map.of("console.css", "text/css; charset=utf-8",
                "console.js", "text/javascript; charset=utf-8");

        static void send(String name, Response response, Callback callback) {
            String type = TYPES.get(name);
            if (type == null) {
                throw ApiException.notFound("no console file '" + Printable.clip(name) + "'; there are " + TYPES.keySet());
            }
            byte[] bytes;
            try (InputStream in = Console.class.getResourceAsStream(name)) {
                bytes = Objects.requireNonNull(in, name).readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
            response.write(true, ByteBuffer.wrap(bytes), callback);
        }
    }
}
