package dev.sigil.client;

import java.io.IOException;
import java.net.URI;

/** Fetches a public document (JWKS, discovery, status list) by URL; implementations authenticate the server. */
@FunctionalInterface
public interface DocumentFetcher {
    String get(URI uri) throws IOException;
}
