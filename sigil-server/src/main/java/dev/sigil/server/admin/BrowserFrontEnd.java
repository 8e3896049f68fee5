package dev.sigil.server.admin;

import java.util.List;
import java.util.Map;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Pages for a browser, served under {@link #PATH} on the admin listeners. The transport has already
 * authenticated the connection exactly as for the JSON API (the Unix socket's peer, or an admin
 * X.509-SVID over mutual TLS) before {@link #serve} runs; the front end adds its own authentication on
 * top (a browser session), because a connection's peer is not the person at the browser when the socket
 * is reached through a local forwarder. It changes nothing itself: every read and action is a call of
 * the admin API through {@link Calls}, so it has no business path of its own.
 */
public interface BrowserFrontEnd {
    /** The path prefix the front end owns: {@code /console} and everything under {@code /console/}. */
    String PATH = "/console";

    /**
     * Answers one request (completing {@code callback}), including every failure: nothing may escape as
     * an exception for a client's mistake.
     *
     * @param transport who the transport authenticated; not by itself enough to act
     * @param api       the admin API, called in-process
     */
    void serve(Request request, Response response, Callback callback, Actor transport, Calls api);

    /** An in-process call of an admin route, as the listeners would answer it once the caller is known. */
    @FunctionalInterface
    interface Calls {
        /**
         * @return the route's reply (its body a JSON-serializable value)
         * @throws ApiException what would be an error response
         */
        Reply call(String method, String path, Map<String, List<String>> query, byte[] body, Actor actor);
    }

    /** Whether {@code path} (decoded) belongs to the front end. */
    static boolean owns(String path) {
        return path.equals(PATH) || path.startsWith(PATH + "/");
    }
}
