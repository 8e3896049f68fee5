package dev.sigil.server.resource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The RFC 9728 protected resource metadata document of a registered resource, for the resource server to
 * publish at {@code /.well-known/oauth-protected-resource} (what an MCP client fetches first to learn
 * which authorization server to ask and for which scopes). Public information only.
 */
public final class ProtectedResourceMetadata {
    private ProtectedResourceMetadata() {
    }

    /** @param issuer the authorization server's issuer identifier (its RFC 8414 metadata names the token endpoint) */
    public static Map<String, Object> document(ProtectedResource resource, String issuer) {
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("resource", resource.uri());
        document.put("authorization_servers", List.of(issuer));
        document.put("scopes_supported", resource.scopes());
        document.put("bearer_methods_supported", List.of("header"));
        resource.name().ifPresent(name -> document.put("resource_name", name));
        return document;
    }
}
