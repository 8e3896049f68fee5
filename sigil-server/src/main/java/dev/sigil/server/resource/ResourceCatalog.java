package dev.sigil.server.resource;

import java.util.Optional;

/** The registered protected resources as the token endpoint consults them: by canonical URI, cheaply. */
@FunctionalInterface
public interface ResourceCatalog {
    Optional<ProtectedResource> find(String uri);

    static ResourceCatalog none() {
        return uri -> Optional.empty();
    }
}
