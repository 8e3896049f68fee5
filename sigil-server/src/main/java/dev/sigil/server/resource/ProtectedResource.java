package dev.sigil.server.resource;

import dev.sigil.core.Printable;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A resource server registered with Sigil's authorization server, such as an MCP server: the canonical
 * URI clients name in {@code resource} (RFC 8707) and that becomes the {@code aud} of their tokens, a
 * display name, and the scopes it defines, which bound what any token for it may carry.
 *
 * @param uri       absolute {@code https} URI without fragment, query or user info; scheme and host in lower
 *                  case (the MCP specification's canonical form), at most {@value #MAX_URI} characters
 * @param scopes    1 to {@value #MAX_SCOPES} RFC 6749 scope tokens, deduplicated, in the order given
 * @param createdBy the admin who registered it
 */
public record ProtectedResource(String uri, Optional<String> name, List<String> scopes, Instant createdAt, String createdBy) {
    static final int MAX_URI = 512;
    static final int MAX_SCOPES = 64;
    static final int MAX_NAME = 200;
    private static final Pattern SCOPE_TOKEN = Pattern.compile("[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,128}");

    public ProtectedResource {
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(createdBy, "createdBy");
        uri = canonical(uri);
        name = Objects.requireNonNull(name, "name").map(String::strip).filter(n -> !n.isEmpty());
        name.ifPresent(n -> {
            if (n.length() > MAX_NAME || n.chars().anyMatch(Character::isISOControl)) {
                throw new IllegalArgumentException("resource name must be at most " + MAX_NAME + " characters without control characters");
            }
        });
        if (scopes == null || scopes.isEmpty() || scopes.size() > MAX_SCOPES) {
            throw new IllegalArgumentException("a resource defines 1 to " + MAX_SCOPES + " scopes, got " + (scopes == null ? 0 : scopes.size()));
        }
        for (String scope : scopes) {
            if (scope == null || !SCOPE_TOKEN.matcher(scope).matches()) {
                throw new IllegalArgumentException("scope '" + Printable.clip(String.valueOf(scope)) + "' is malformed (RFC 6749 section 3.3: "
                        + "printable ASCII without spaces, quotes or backslashes)");
            }
        }
        scopes = List.copyOf(new LinkedHashSet<>(scopes));
    }

    /**
     * The canonical form of a resource URI, or an {@link IllegalArgumentException} naming what is wrong:
     * RFC 8707 section 2 asks for an absolute URI without fragment; Sigil also requires {@code https}
     * (tokens are bearer credentials) and no query or user info.
     */
    public static String canonical(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("resource uri is required, e.g. https://mcp.example.com/");
        }
        if (text.length() > MAX_URI || text.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
            throw new IllegalArgumentException("resource uri must be at most " + MAX_URI + " characters without spaces");
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("resource uri '" + Printable.clip(text) + "' is not a uri: " + e.getReason());
        }
        if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("resource uri '" + Printable.clip(text) + "' must be an absolute https uri with a host");
        }
        if (uri.getRawFragment() != null || uri.getRawQuery() != null || uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("resource uri '" + Printable.clip(text) + "' must have no fragment, query or user info (RFC 8707 section 2)");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        return "https://" + uri.getHost().toLowerCase(Locale.ROOT) + (uri.getPort() == -1 || uri.getPort() == 443 ? "" : ":" + uri.getPort()) + path;
    }
}
