package dev.sigil.server.registration;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.admin.AdminRequest;
import dev.sigil.server.admin.ApiException;
import dev.sigil.server.admin.Reply;
import dev.sigil.server.admin.Routes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The admin API of registration: entries ({@code /v1/entries}) and join tokens
 * ({@code /v1/join-tokens}). Every change is attributed to the caller ({@link AdminRequest#actor()})
 * and audited by the stores in the same transaction as the change. Entries must name SPIFFE IDs of
 * this server's trust domain.
 */
public final class RegistrationRoutes {
    /** Most entries one batch request may carry; larger imports send several batches. */
    static final int MAX_BATCH = 500;
    private static final int DEFAULT_PAGE_SIZE = 100;
    private static final Duration DEFAULT_JOIN_TOKEN_TTL = Duration.ofMinutes(10);

    private final EntryStore entries;
    private final JoinTokens joinTokens;
    private final TrustDomain trustDomain;

    public RegistrationRoutes(EntryStore entries, JoinTokens joinTokens, TrustDomain trustDomain) {
        this.entries = entries;
        this.joinTokens = joinTokens;
        this.trustDomain = trustDomain;
    }

    public Routes routes() {
        return Routes.builder()
                .post("/v1/entries", this::create)
                .post("/v1/entries/batch", this::createBatch)
                .get("/v1/entries", this::list)
                .get("/v1/entries/{id}", request -> Reply.ok(EntryJson.of(find(request.pathParameter("id")))))
                .put("/v1/entries/{id}", this::update)
                .delete("/v1/entries/{id}", this::delete)
                .post("/v1/join-tokens", this::generateToken)
                .build();
    }

    /** An entry as the API writes and reads it; TTLs in whole seconds, 0 or absent meaning the server default. */
    public record EntryJson(String id, Long revision, SpiffeId spiffeId, SpiffeId parentId, List<Selector> selectors,
                            Long x509SvidTtl, Long jwtSvidTtl, List<String> dnsNames, String owner, Boolean admin,
                            String hint, Instant expiresAt, List<TrustDomain> federatesWith, Instant createdAt,
                            Instant updatedAt) {
        public static EntryJson of(RegistrationEntry entry) {
            return new EntryJson(entry.id(), entry.revision(), entry.spiffeId(), entry.parentId(), entry.selectors(),
                    entry.x509SvidTtl().toSeconds(), entry.jwtSvidTtl().toSeconds(), entry.dnsNames(), entry.owner(),
                    entry.admin(), entry.hint(), entry.expiresAt().orElse(null), entry.federatesWith(),
                    entry.createdAt(), entry.updatedAt());
        }
    }

    /**
     * An entry as a client sends it. {@code id} and {@code revision} are only accepted on update, where
     * {@code revision} makes the update conditional on the entry being unchanged since it was read.
     */
    record EntryRequest(Optional<String> id, Optional<Long> revision, SpiffeId spiffeId, SpiffeId parentId,
                        List<Selector> selectors, Optional<Long> x509SvidTtl, Optional<Long> jwtSvidTtl,
                        Optional<List<String>> dnsNames, String owner, Optional<Boolean> admin, Optional<String> hint,
                        Optional<Instant> expiresAt, Optional<List<TrustDomain>> federatesWith) {
    }

    record BatchJson(List<EntryRequest> entries) {
    }

    record BatchResultJson(EntryJson entry, ErrorJson error) {
    }

    record ErrorJson(String code, String message) {
    }

    record EntryListJson(List<EntryJson> entries, String nextPageToken) {
    }

    record JoinTokenRequest(Optional<SpiffeId> spiffeId, Optional<Long> ttl, Optional<String> owner) {
    }

    record JoinTokenJson(String token, String id, SpiffeId spiffeId, Instant expiresAt, String aliasEntryId) {
    }

    private Reply create(AdminRequest request) {
        EntryRequest body = request.body(EntryRequest.class);
        rejectServerFields(body);
        return Reply.created(EntryJson.of(entries.create(draft(body), request.actor().describe())));
    }

    private Reply createBatch(AdminRequest request) {
        BatchJson batch = request.body(BatchJson.class);
        if (batch.entries() == null || batch.entries().isEmpty()) {
            throw ApiException.invalidArgument("field 'entries' is required and must hold at least one entry");
        }
        if (batch.entries().size() > MAX_BATCH) {
            throw ApiException.invalidArgument("a batch holds " + batch.entries().size() + " entries; at most " + MAX_BATCH
                    + " are allowed per request");
        }
        // Entries that do not validate are answered in place; the rest go to the store in one call.
        List<BatchResultJson> results = new ArrayList<>();
        List<EntryDraft> drafts = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        for (int i = 0; i < batch.entries().size(); i++) {
            try {
                EntryRequest json = batch.entries().get(i);
                rejectServerFields(json);
                drafts.add(draft(json));
                positions.add(i);
                results.add(null);
            } catch (ApiException e) {
                results.add(new BatchResultJson(null, new ErrorJson(e.code().wireName(), "entries[" + i + "]: " + e.getMessage())));
            } catch (RegistrationException e) {
                results.add(new BatchResultJson(null, new ErrorJson(RegistrationErrors.code(e).wireName(),
                        "entries[" + i + "]: " + e.getMessage())));
            }
        }
        List<BatchCreateResult> stored = drafts.isEmpty() ? List.of() : entries.createBatch(drafts, request.actor().describe());
        for (int i = 0; i < stored.size(); i++) {
            BatchResultJson result = switch (stored.get(i)) {
                case BatchCreateResult.Created created -> new BatchResultJson(EntryJson.of(created.entry()), null);
                case BatchCreateResult.Failed failed -> new BatchResultJson(null,
                        new ErrorJson(RegistrationErrors.code(failed.error()).wireName(), failed.error().getMessage()));
            };
            results.set(positions.get(i), result);
        }
        return Reply.ok(Map.of("results", results));
    }

    private Reply list(AdminRequest request) {
        EntryFilter filter = EntryFilter.all();
        Optional<String> spiffeId = request.query("spiffe_id");
        if (spiffeId.isPresent()) {
            filter = filter.withSpiffeId(queryId("spiffe_id", spiffeId.get()));
        }
        Optional<String> parentId = request.query("parent_id");
        if (parentId.isPresent()) {
            filter = filter.withParentId(queryId("parent_id", parentId.get()));
        }
        List<String> selectors = request.queryAll("selector");
        if (!selectors.isEmpty()) {
            filter = filter.withSelectors(matchMode(request.query("match").orElse("superset")),
                    selectors.stream().map(RegistrationRoutes::querySelector).toList());
        } else if (request.query("match").isPresent()) {
            throw ApiException.invalidArgument("query parameter 'match' needs at least one 'selector'");
        }
        Optional<String> owner = request.query("owner");
        if (owner.isPresent()) {
            filter = filter.withOwner(owner.get());
        }
        int size = request.queryInt("page_size", 1, PageRequest.MAX_SIZE).orElse(DEFAULT_PAGE_SIZE);
        Optional<String> token = request.query("page_token").filter(t -> !t.isEmpty());
        PageRequest page = token.map(t -> PageRequest.next(t, size)).orElse(PageRequest.first(size));
        Page<RegistrationEntry> result = entries.list(filter, page);
        return Reply.ok(new EntryListJson(result.items().stream().map(EntryJson::of).toList(),
                result.nextPageToken().orElse("")));
    }

    private Reply update(AdminRequest request) {
        String id = request.pathParameter("id");
        EntryRequest body = request.body(EntryRequest.class);
        if (body.id().isPresent() && !body.id().get().equals(id)) {
            throw ApiException.invalidArgument("field 'id' is '" + body.id().get() + "' but the path names entry '" + id
                    + "'; leave it out or make them agree");
        }
        EntryDraft draft = draft(body);
        long revision = body.revision().orElseGet(() -> find(id).revision());
        return Reply.ok(EntryJson.of(entries.update(id, revision, draft, request.actor().describe())));
    }

    private Reply delete(AdminRequest request) {
        String id = request.pathParameter("id");
        Optional<Long> expected = request.query("revision").map(RegistrationRoutes::parseRevision);
        if (expected.isPresent()) {
            long current = find(id).revision();
            if (current != expected.get()) {
                throw ApiException.revisionConflict("entry '" + id + "' is at revision " + current + ", not "
                        + expected.get() + "; read it again before deleting");
            }
        }
        entries.delete(id, request.actor().describe());
        return Reply.noContent();
    }

    private Reply generateToken(AdminRequest request) {
        JoinTokenRequest body = request.hasBody() ? request.body(JoinTokenRequest.class)
                : new JoinTokenRequest(Optional.empty(), Optional.empty(), Optional.empty());
        Duration ttl = body.ttl().map(Duration::ofSeconds).orElse(DEFAULT_JOIN_TOKEN_TTL);
        if (ttl.isNegative() || ttl.isZero()) {
            throw ApiException.invalidArgument("field 'ttl' is " + ttl.toSeconds() + "; a join token needs a positive ttl in seconds");
        }
        body.spiffeId().ifPresent(id -> requireOwnTrustDomain("spiffe_id", id));
        body.spiffeId().ifPresent(id -> {
            if (id.equals(trustDomain.id("/sigil/server")) || id.path().startsWith("/sigil/")) {
                throw ApiException.invalidArgument("field 'spiffe_id' is '" + id + "'; the node alias must not be under "
                        + "spiffe://" + trustDomain.name() + "/sigil/, which names the server and agents");
            }
        });
        String actor = request.actor().describe();
        String owner = body.owner().filter(o -> !o.isBlank()).orElse(actor);
        IssuedJoinToken token = joinTokens.generate(body.spiffeId(), ttl, actor);
        // As SPIRE's 'token generate -spiffeID': a node alias entry, so that entries whose parent is that ID
        // are served by the node that attests with this token (see docs/agent-api.md, node aliasing).
        String aliasId = body.spiffeId().map(id -> entries.create(new EntryDraft(id, trustDomain.id("/sigil/server"),
                List.of(Selector.of("join_token", "id:" + token.id())), Duration.ZERO, Duration.ZERO, List.of(), owner,
                Optional.empty(), false, "", List.of()), actor).id()).orElse(null);
        return Reply.created(new JoinTokenJson(token.revealSecretValue(), token.id(), token.spiffeId().orElse(null),
                token.expiresAt(), aliasId));
    }

    private EntryDraft draft(EntryRequest json) {
        if (json.spiffeId() == null) {
            throw ApiException.invalidArgument("field 'spiffe_id' is required");
        }
        if (json.parentId() == null) {
            throw ApiException.invalidArgument("field 'parent_id' is required");
        }
        if (json.owner() == null || json.owner().isBlank()) {
            throw ApiException.invalidArgument("field 'owner' is required: the team or person accountable for the identity");
        }
        requireOwnTrustDomain("spiffe_id", json.spiffeId());
        requireOwnTrustDomain("parent_id", json.parentId());
        return new EntryDraft(json.spiffeId(), json.parentId(), json.selectors() == null ? List.of() : json.selectors(),
                seconds("x509_svid_ttl", json.x509SvidTtl()), seconds("jwt_svid_ttl", json.jwtSvidTtl()),
                json.dnsNames().orElse(List.of()), json.owner(), json.expiresAt(), json.admin().orElse(false),
                json.hint().orElse(""), json.federatesWith().orElse(List.of()));
    }

    private RegistrationEntry find(String id) {
        return entries.find(id).orElseThrow(() -> ApiException.notFound("no entry with id '" + id + "'"));
    }

    private void requireOwnTrustDomain(String field, SpiffeId id) {
        if (!id.memberOf(trustDomain)) {
            throw ApiException.invalidArgument("field '" + field + "' is '" + id + "', outside this server's trust domain '"
                    + trustDomain + "'");
        }
    }

    private static Duration seconds(String field, Optional<Long> ttl) {
        if (ttl.isEmpty()) {
            return Duration.ZERO;
        }
        long value = ttl.get();
        if (value < 0) {
            throw ApiException.invalidArgument("field '" + field + "' is " + value + "; a ttl is a number of seconds, 0 or more");
        }
        return Duration.ofSeconds(value);
    }

    private static void rejectServerFields(EntryRequest body) {
        if (body.id().isPresent() || body.revision().isPresent()) {
            throw ApiException.invalidArgument("fields 'id' and 'revision' are set by the server; "
                    + "leave them out when creating an entry");
        }
    }

    private static SpiffeId queryId(String name, String value) {
        try {
            return SpiffeId.parse(value);
        } catch (RuntimeException e) {
            throw ApiException.invalidArgument("query parameter '" + name + "': " + e.getMessage());
        }
    }

    private static Selector querySelector(String value) {
        try {
            return Selector.parse(value);
        } catch (RuntimeException e) {
            throw ApiException.invalidArgument("query parameter 'selector': " + e.getMessage());
        }
    }

    private static EntryFilter.MatchMode matchMode(String text) {
        return switch (text) {
            case "exact" -> EntryFilter.MatchMode.EXACT;
            case "subset" -> EntryFilter.MatchMode.SUBSET;
            case "superset" -> EntryFilter.MatchMode.SUPERSET;
            default -> throw ApiException.invalidArgument("query parameter 'match' is '" + text
                    + "'; valid: exact, subset, superset");
        };
    }

    private static long parseRevision(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw ApiException.invalidArgument("query parameter 'revision' is '" + text + "'; expected a whole number");
        }
    }
}
