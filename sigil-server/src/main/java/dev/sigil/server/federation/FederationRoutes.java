package dev.sigil.server.federation;

import dev.sigil.core.bundle.BundleFormatException;
import dev.sigil.core.bundle.JwtAuthority;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.InvalidSpiffeIdException;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.admin.AdminRequest;
import dev.sigil.server.admin.ApiException;
import dev.sigil.server.admin.Reply;
import dev.sigil.server.admin.Routes;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The admin API of federation relationships (docs/admin-api.md, "Federation"): create, list, show,
 * update and delete, each change audited by {@link FederationStore} with the caller as actor. A
 * relationship with this server's own trust domain is refused: a trust domain's own bundle comes from
 * its authority, never from an endpoint.
 */
public final class FederationRoutes {
    private static final String PROFILES = BundleEndpointProfile.HTTPS_WEB + " or " + BundleEndpointProfile.HTTPS_SPIFFE;

    private final FederationStore store;
    private final TrustDomain own;

    public FederationRoutes(FederationStore store, TrustDomain own) {
        this.store = store;
        this.own = own;
    }

    public Routes routes() {
        return Routes.builder()
                .post("/v1/federation", request -> {
                    RelationshipRequest body = body(request);
                    FederationDraft draft = draft(body.trustDomain().orElse(null), body);
                    return Reply.created(RelationshipJson.of(done(store.create(draft, request.actor().describe()), draft.trustDomain())));
                })
                .get("/v1/federation", request -> Reply.ok(new RelationshipList(store.list().stream().map(RelationshipJson::of).toList())))
                .get("/v1/federation/{trust_domain}", request -> {
                    TrustDomain trustDomain = trustDomain(request.pathParameter("trust_domain"));
                    return Reply.ok(RelationshipJson.of(store.find(trustDomain).orElseThrow(() -> notFound(trustDomain))));
                })
                .put("/v1/federation/{trust_domain}", request -> {
                    TrustDomain trustDomain = trustDomain(request.pathParameter("trust_domain"));
                    RelationshipRequest body = body(request);
                    if (body.trustDomain().isPresent() && !body.trustDomain().get().equals(trustDomain)) {
                        throw ApiException.invalidArgument("field 'trust_domain' is '" + body.trustDomain().get() + "' but the path names '"
                                + trustDomain + "'; leave it out or make them agree");
                    }
                    FederationDraft draft = draft(trustDomain, body);
                    return Reply.ok(RelationshipJson.of(done(store.update(draft, body.revision(), request.actor().describe()), trustDomain)));
                })
                .delete("/v1/federation/{trust_domain}", request -> {
                    TrustDomain trustDomain = trustDomain(request.pathParameter("trust_domain"));
                    Optional<Long> revision = request.query("revision").map(FederationRoutes::revision);
                    done(store.delete(trustDomain, revision, request.actor().describe()), trustDomain);
                    return Reply.noContent();
                })
                .build();
    }

    /** A create or update request; {@code trust_domain} may be left out of an update (the path names it). */
    record RelationshipRequest(Optional<TrustDomain> trustDomain, String bundleEndpointUrl, String bundleEndpointProfile,
                               Optional<String> endpointSpiffeId, Optional<Map<String, Object>> trustDomainBundle, Optional<Long> revision) {
    }

    /** A relationship as the API shows it: the bundle's sequence and key ids, never more than public material. */
    public record RelationshipJson(TrustDomain trustDomain, String bundleEndpointUrl, String bundleEndpointProfile,
                                   Optional<SpiffeId> endpointSpiffeId, String state, Optional<Long> bundleSequence,
                                   Optional<Long> bundleRefreshHint, List<String> x509Authorities, List<String> jwtKeyIds,
                                   Optional<Instant> lastRefreshAt, Optional<Instant> lastAttemptAt, Optional<String> lastError,
                                   long revision, Instant createdAt, Instant updatedAt) {
        static RelationshipJson of(FederationRelationship relationship) {
            Optional<SpiffeBundle> bundle = relationship.bundle();
            String state = relationship.lastError().isPresent() ? "failing"
                    : relationship.lastRefreshAt().isPresent() ? "ok" : "pending";
            return new RelationshipJson(relationship.trustDomain(), relationship.bundleEndpointUrl().toString(),
                    relationship.profile().name(),
                    relationship.profile() instanceof BundleEndpointProfile.HttpsSpiffe spiffe ? Optional.of(spiffe.endpointSpiffeId())
                            : Optional.empty(),
                    state, bundle.map(SpiffeBundle::sequence), bundle.flatMap(SpiffeBundle::refreshHint).map(java.time.Duration::toSeconds),
                    bundle.map(b -> b.x509Authorities().stream().map(c -> c.getSubjectX500Principal().getName() + " serial "
                            + c.getSerialNumber().toString(16)).toList()).orElse(List.of()),
                    bundle.map(b -> b.jwtAuthorities().stream().map(JwtAuthority::keyId).toList()).orElse(List.of()),
                    relationship.lastRefreshAt(), relationship.lastAttemptAt(), relationship.lastError(), relationship.revision(),
                    relationship.createdAt(), relationship.updatedAt());
        }
    }

    public record RelationshipList(List<RelationshipJson> relationships) {
    }

    private FederationDraft draft(TrustDomain trustDomain, RelationshipRequest body) {
        if (trustDomain == null) {
            throw ApiException.invalidArgument("field 'trust_domain' is missing; name the trust domain to federate with, e.g. \"example.com\"");
        }
        if (trustDomain.equals(own)) {
            throw ApiException.invalidArgument("trust domain '" + trustDomain + "' is this server's own; federate with another trust domain");
        }
        if (body.bundleEndpointUrl() == null || body.bundleEndpointUrl().isBlank()) {
            throw ApiException.invalidArgument("field 'bundle_endpoint_url' is missing; e.g. https://spiffe.example.com/bundle");
        }
        URI url;
        try {
            url = new URI(body.bundleEndpointUrl());
        } catch (URISyntaxException e) {
            throw ApiException.invalidArgument("bundle_endpoint_url '" + dev.sigil.core.Printable.clip(body.bundleEndpointUrl())
                    + "' is not a url: " + dev.sigil.core.Printable.clip(e.getReason()));
        }
        BundleEndpointProfile profile = profile(body);
        Optional<SpiffeBundle> bundle = body.trustDomainBundle().map(json -> {
            try {
                return SpiffeBundle.parse(trustDomain, com.nimbusds.jose.util.JSONObjectUtils.toJSONString(json));
            } catch (BundleFormatException e) {
                throw ApiException.invalidArgument("trust_domain_bundle is not a valid spiffe bundle: " + e.getMessage());
            }
        });
        try {
            return new FederationDraft(trustDomain, url, profile, bundle);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidArgument(e.getMessage());
        }
    }

    private static BundleEndpointProfile profile(RelationshipRequest body) {
        String name = body.bundleEndpointProfile();
        if (name == null) {
            throw ApiException.invalidArgument("field 'bundle_endpoint_profile' is missing; valid: " + PROFILES);
        }
        return switch (name) {
            case BundleEndpointProfile.HTTPS_WEB -> {
                if (body.endpointSpiffeId().isPresent()) {
                    throw ApiException.invalidArgument("endpoint_spiffe_id applies only to the https_spiffe profile; leave it out for https_web");
                }
                yield new BundleEndpointProfile.HttpsWeb();
            }
            case BundleEndpointProfile.HTTPS_SPIFFE -> {
                String id = body.endpointSpiffeId().orElseThrow(() -> ApiException.invalidArgument(
                        "field 'endpoint_spiffe_id' is missing; the https_spiffe profile needs the spiffe id the endpoint presents"));
                try {
                    yield new BundleEndpointProfile.HttpsSpiffe(SpiffeId.parse(id));
                } catch (InvalidSpiffeIdException e) {
                    throw ApiException.invalidArgument("endpoint_spiffe_id '" + dev.sigil.core.Printable.clip(id) + "' is not a spiffe id: "
                            + e.getMessage());
                }
            }
            default -> throw ApiException.invalidArgument("bundle_endpoint_profile '" + dev.sigil.core.Printable.clip(name)
                    + "' is not known; valid: " + PROFILES);
        };
    }

    private static FederationRelationship done(FederationStore.Change change, TrustDomain trustDomain) {
        return switch (change) {
            case FederationStore.Change.Done done -> done.relationship();
            case FederationStore.Change.AlreadyExists exists -> throw ApiException.alreadyExists("a federation relationship with '"
                    + trustDomain + "' exists; update it instead");
            case FederationStore.Change.NotFound missing -> throw notFound(trustDomain);
            case FederationStore.Change.RevisionConflict conflict -> throw ApiException.revisionConflict("the relationship with '"
                    + trustDomain + "' is at revision " + conflict.current() + "; read it again before changing it");
            case FederationStore.Change.BundleRequired required -> throw ApiException.invalidArgument("the https_spiffe profile needs "
                    + "trust_domain_bundle (the bundle of '" + trustDomain + "') to authenticate the endpoint's first answer");
        };
    }

    private static RelationshipRequest body(AdminRequest request) {
        if (!request.hasBody()) {
            throw ApiException.invalidArgument("request body is missing; send {\"trust_domain\", \"bundle_endpoint_url\", "
                    + "\"bundle_endpoint_profile\", ...}");
        }
        return request.body(RelationshipRequest.class);
    }

    private static TrustDomain trustDomain(String text) {
        try {
            return TrustDomain.parse(text);
        } catch (RuntimeException e) {
            throw ApiException.invalidArgument("'" + dev.sigil.core.Printable.clip(text) + "' is not a trust domain: " + e.getMessage());
        }
    }

    private static long revision(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw ApiException.invalidArgument("query parameter 'revision' is '" + dev.sigil.core.Printable.clip(text)
                    + "'; it must be an integer");
        }
    }

    private static ApiException notFound(TrustDomain trustDomain) {
        return ApiException.notFound("no federation relationship with '" + trustDomain + "'");
    }
}
