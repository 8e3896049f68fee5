package dev.sigil.server.http;

import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.MDC;

/**
 * Wraps a listener's handler: gives every request a fresh request id (the {@value #HEADER} response
 * header, and {@value #MDC_KEY} in the log context of the request's thread while its handler runs), and
 * reports method, route template, status and duration to a {@link RequestObserver} when the response is
 * complete.
 *
 * <p>Security: the id is generated here, never taken from the client (a client-chosen id could forge or
 * collide with log lines); the route is what {@code routes} maps the path to, which must be a fixed
 * set of templates, so a client cannot create label values.
 */
public final class ObservedHandler extends Handler.Wrapper {
    public static final String HEADER = "X-Request-Id";
    public static final String MDC_KEY = "request_id";
    private static final Set<String> METHODS = Set.of("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS");

    private final RequestObserver observer;
    private final UnaryOperator<String> routes;

    private ObservedHandler(Handler handler, RequestObserver observer, UnaryOperator<String> routes) {
        super(handler);
        this.observer = Objects.requireNonNull(observer, "observer");
        this.routes = Objects.requireNonNull(routes, "routes");
    }

    /**
     * @param routes maps a request path to its route template; must return one of a fixed set of
     *               strings (for example {@code other} for any path it does not know)
     */
    public static Handler wrap(Handler handler, RequestObserver observer, UnaryOperator<String> routes) {
        return new ObservedHandler(handler, observer, routes);
    }

    /** A new request id: 16 hex digits, unique enough to find one request's lines in a log. */
    public static String newRequestId() {
        return java.util.HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        long start = System.nanoTime();
        String id = newRequestId();
        response.getHeaders().put(HEADER, id);
        String method = METHODS.contains(request.getMethod()) ? request.getMethod() : "OTHER";
        String route = routes.apply(Request.getPathInContext(request));
        Callback observed = new Callback() {
            @Override
            public void succeeded() {
                report(response.getStatus());
                callback.succeeded();
            }

            @Override
            public void failed(Throwable failure) {
                report(Math.max(response.getStatus(), 500));
                callback.failed(failure);
            }

            @Override
            public InvocationType getInvocationType() {
                return callback.getInvocationType();
            }

            private void report(int status) {
                try {
                    observer.finished(method, route, status, System.nanoTime() - start);
                } catch (RuntimeException e) {
                    // metrics never fail a request
                }
            }
        };
        MDC.put(MDC_KEY, id);
        try {
            boolean handled = super.handle(request, response, observed);
            if (!handled) {
                observer.finished(method, route, 404, System.nanoTime() - start);
            }
            return handled;
        } catch (Exception | Error e) {
            observer.finished(method, route, 500, System.nanoTime() - start);
            throw e;
        } finally {
            MDC.remove(MDC_KEY);
        }
    }
}
