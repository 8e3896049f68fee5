package dev.sigil.server.http;

import java.time.Duration;

/**
 * What one client may hold of a listener. Security property: a client that opens connections and
 * sends nothing, or sends a request body a byte at a time, holds no worker thread (bodies are read
 * asynchronously), loses its connection after {@code idleTimeout} of silence or when its request is not
 * complete {@code requestTimeout} after it began, and cannot hold more than {@code maxConnections}
 * connections of the listener together with every other client (further connections wait in the
 * kernel's accept queue until one closes).
 *
 * @param idleTimeout    silence after which a connection is closed
 * @param requestTimeout time from the request line to the last byte of its body
 * @param maxConnections connections served at once
 */
public record ListenerLimits(Duration idleTimeout, Duration requestTimeout, int maxConnections) {
    /** The defaults: 30 s idle, 10 s per request, 1,024 connections. */
    public static final ListenerLimits DEFAULTS = new ListenerLimits(Duration.ofSeconds(30), Duration.ofSeconds(10), 1024);

    public ListenerLimits {
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("idle timeout is " + idleTimeout + "; it must be positive");
        }
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("request timeout is " + requestTimeout + "; it must be positive");
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("max connections is " + maxConnections + "; it must be at least 1");
        }
    }
}
