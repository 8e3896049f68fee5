package dev.sigil.server.resource;

import dev.sigil.server.admin.AdminRequest;
import dev.sigil.server.admin.ApiException;
import dev.sigil.server.admin.Reply;
import dev.sigil.server.admin.Routes;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Admin API for protected resources: {@code POST /v1/resources {uri, scopes, name?}},
 * {@code GET /v1/resources}, {@code GET /v1/resources/metadata?uri=} (the RFC 9728 document) and
 * {@code DELETE /v1/resources?uri=} (the URI is a query parameter: it holds slashes). Changes are
 * attributed to the caller.
 */
public final class ResourceRoutes {
    private final ResourceStore resources;
    private final String issuer;

    public ResourceRoutes(ResourceStore resources, String issuer) {
        this.resources = resources;
        this.issuer = issuer;
    }

    record CreateRequest(String uri, List<String> scopes, Optional<String> name) {
    }

    record ResourceJson(String uri, Optional<String> name, List<String> scopes, Instant createdAt, String createdBy) {
        static ResourceJson of(ProtectedResource resource) {
            return new ResourceJson(resource.uri(), resource.name(), resource.scopes(), resource.createdAt(), resource.createdBy());
        }
    }

    record ResourceListJson(List<ResourceJson> resources) {
    }

    public Routes routes() {
        return Routes.builder()
                .post("/v1/resources", this::create)
                .get("/v1/resources", request -> Reply.ok(new ResourceListJson(resources.list().stream().map(ResourceJson::of).toList())))
                .get("/v1/resources/metadata", this::metadata)
                .delete("/v1/resources", this::delete)
                .build();
    }

    private Reply create(AdminRequest request) {
        CreateRequest body = request.body(CreateRequest.class);
        if (body.uri() == null || body.scopes() == null) {
            throw ApiException.invalidArgument("a resource needs uri (https://...) and scopes (a list of scope names)");
        }
        try {
            return Reply.created(ResourceJson.of(resources.create(body.uri(), body.name() == null ? Optional.empty() : body.name(),
                    body.scopes(), request.actor().describe())));
        } catch (ResourceStore.AlreadyRegistered e) {
            throw ApiException.alreadyExists(e.getMessage());
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidArgument(e.getMessage());
        }
    }

    private Reply metadata(AdminRequest request) {
        ProtectedResource resource = registered(request);
        return Reply.ok(ProtectedResourceMetadata.document(resource, issuer));
    }

    private Reply delete(AdminRequest request) {
        String uri = uri(request);
        if (!resources.delete(uri, request.actor().describe())) {
            throw ApiException.notFound("resource " + uri + " is not registered");
        }
        return Reply.ok(Map.of("deleted", ProtectedResource.canonical(uri)));
    }

    private ProtectedResource registered(AdminRequest request) {
        String uri = uri(request);
        return resources.list().stream().filter(r -> r.uri().equals(ProtectedResource.canonical(uri))).findFirst()
                .orElseThrow(() -> ApiException.notFound("resource " + ProtectedResource.canonical(uri) + " is not registered"));
    }

    private static String uri(AdminRequest request) {
        String uri = request.query("uri").orElseThrow(() -> ApiException.invalidArgument("the uri query parameter is required"));
        try {
            return ProtectedResource.canonical(uri);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidArgument(e.getMessage());
        }
    }
}
