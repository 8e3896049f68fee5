package dev.sigil.server.http;

/**
 * Told of every finished request of a listener (for metrics). Called on the request's thread once its
 * response is complete; must be fast and must not throw.
 *
 * <p>Contract: {@code route} is a route template from a fixed set the listener names (never a raw
 * path), {@code method} one of a fixed set of HTTP methods or {@code OTHER}, so label values stay
 * bounded whatever clients send.
 */
@FunctionalInterface
public interface RequestObserver {
    RequestObserver NONE = (method, route, status, nanos) -> {
    };

    void finished(String method, String route, int status, long nanos);
}
