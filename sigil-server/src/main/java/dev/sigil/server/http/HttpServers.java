package dev.sigil.server.http;

import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Creates the small Jetty {@link Server}s Sigil's listeners run on: a bounded thread pool (so a flood
 * of connections cannot grow the heap without limit), no version banner, JSON error pages.
 */
public final class HttpServers {
    private HttpServers() {
    }

    /** A server with a pool of at most {@code maxThreads} daemon-less threads named {@code name-N}. */
    public static Server newServer(String name, int maxThreads) {
        if (maxThreads < 4) {
            throw new IllegalArgumentException("a listener needs at least 4 threads, got " + maxThreads);
        }
        QueuedThreadPool pool = new QueuedThreadPool(maxThreads, 2);
        pool.setName(name);
        pool.setReservedThreads(0);
        Server server = new Server(pool);
        server.setErrorHandler(new JsonErrorHandler());
        server.setStopAtShutdown(false);
        server.setStopTimeout(2_000);
        return server;
    }

    /** An HTTP configuration that does not advertise the server software or version. */
    public static HttpConfiguration httpConfiguration() {
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        config.setSendXPoweredBy(false);
        config.setSendDateHeader(true);
        config.setRequestHeaderSize(16 * 1024);
        return config;
    }
}
