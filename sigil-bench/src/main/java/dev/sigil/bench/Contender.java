package dev.sigil.bench;

import java.net.URI;
import java.util.List;

/**
 * A token server under the same wrk load in {@link KeycloakSideBySideBench}: where to POST, the form
 * bodies wrk cycles through (each must be answered 200 with a token), and the process whose tree's CPU
 * time is the server's cost.
 */
record Contender(String name, URI uri, String path, List<String> bodies, Process process) {
    Contender {
        bodies = List.copyOf(bodies);
        if (bodies.isEmpty()) {
            throw new IllegalArgumentException("contender " + name + " has no request body to send");
        }
    }

    String[] bodyArray() {
        return bodies.toArray(String[]::new);
    }
}
