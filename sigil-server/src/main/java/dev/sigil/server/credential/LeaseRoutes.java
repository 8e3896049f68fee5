package dev.sigil.server.credential;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.time.Durations;
import dev.sigil.server.admin.AdminRequest;
import dev.sigil.server.admin.ApiException;
import dev.sigil.server.admin.PlainText;
import dev.sigil.server.admin.Reply;
import dev.sigil.server.admin.Routes;
import dev.sigil.server.http.ErrorCode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Admin API for leases: {@code GET /v1/leases} (filters {@code holder}, {@code task}, {@code agent},
 * {@code broker}, {@code prefix}, {@code state}, {@code limit}), {@code GET /v1/leases/{id}},
 * {@code POST /v1/leases/{id}/renew {ttl}}, {@code POST /v1/leases/revoke {id|holder|task|agent|broker|prefix}},
 * {@code POST /v1/leaks {value, ban}} and {@code GET /v1/metrics} (Prometheus text).
 */
public final class LeaseRoutes {
    private final LeaseService leases;
    private final LeakResponse leaks;

    public LeaseRoutes(LeaseService leases, LeakResponse leaks) {
        this.leases = leases;
        this.leaks = leaks;
    }

    /** @param ttl a duration such as {@code 10m}; the broker default when absent */
    record RenewRequest(Optional<String> ttl) {
    }

    record RevokeRequest(Optional<String> id, Optional<SpiffeId> holder, Optional<String> task, Optional<SpiffeId> agent,
                         Optional<String> broker, Optional<String> prefix) {
    }

    record LeakRequest(String value, Optional<Boolean> ban) {
    }

    record RevocationJson(String reason, Instant requestedAt, int attempts, Optional<String> lastError,
                          Optional<Instant> nextAttemptAt, Optional<Instant> revokedAt) {
    }

    record LeaseJson(String id, String broker, SpiffeId holder, Optional<String> task, String resource, String state,
                     Instant issuedAt, Instant expiresAt, Instant maxExpiresAt, Optional<SpiffeId> agent, List<SpiffeId> delegation,
                     Map<String, String> details, Optional<RevocationJson> revocation) {
        static LeaseJson of(Lease l) {
            return new LeaseJson(l.id().value(), l.broker(), l.holder(), l.task(), l.resource(), l.state().wireName(), l.issuedAt(),
                    l.expiresAt(), l.maxExpiresAt(), l.agent(), l.delegation(), l.details(), l.revocation().map(r -> new RevocationJson(
                            r.reason(), r.requestedAt(), r.attempts(), r.lastError(), r.nextAttemptAt(), r.revokedAt())));
        }
    }

    record LeaseListJson(List<LeaseJson> leases) {
    }

    record RevokeJson(int requested, int revoked, int stillRevoking, int deferred) {
    }

    record LeakJson(boolean found, List<String> leases, boolean tokenRevoked, List<SpiffeId> holders, int bannedEntries) {
    }

    public Routes routes() {
        return Routes.builder()
                .get("/v1/leases", request -> Reply.ok(new LeaseListJson(leases.list(filter(request),
                        request.queryInt("limit", 1, 10_000).orElse(100)).stream().map(LeaseJson::of).toList())))
                .get("/v1/leases/{id}", request -> Reply.ok(LeaseJson.of(find(request.pathParameter("id")))))
                .post("/v1/leases/{id}/renew", this::renew)
                .post("/v1/leases/revoke", this::revoke)
                .post("/v1/leaks", this::leak)
                .get("/v1/metrics", request -> Reply.ok(new PlainText(metrics())))
                .build();
    }

    private Reply renew(AdminRequest request) {
        LeaseId id = id(request.pathParameter("id"));
        RenewRequest body = request.hasBody() ? request.body(RenewRequest.class) : new RenewRequest(Optional.empty());
        Optional<Duration> ttl = body.ttl().map(text -> call(() -> Durations.parse(text)));
        return Reply.ok(LeaseJson.of(call(() -> leases.renew(id, ttl, request.actor().describe()))));
    }

    private Reply revoke(AdminRequest request) {
        RevokeRequest body = request.body(RevokeRequest.class);
        LeaseFilter filter = call(() -> {
            LeaseFilter f = LeaseFilter.all();
            if (body.id().isPresent()) {
                f = f.withId(id(body.id().get()));
            }
            if (body.holder().isPresent()) {
                f = f.withHolder(body.holder().get());
            }
            if (body.task().isPresent()) {
                f = f.withTask(body.task().get());
            }
            if (body.agent().isPresent()) {
                f = f.withAgent(body.agent().get());
            }
            if (body.broker().isPresent()) {
                f = f.withBroker(body.broker().get());
            }
            if (body.prefix().isPresent()) {
                f = f.withPrefix(body.prefix().get());
            }
            return f;
        });
        LeaseRevoker.Result result = call(() -> leases.revoke(filter, "revoked by " + request.actor().describe(), request.actor().describe()));
        return Reply.ok(new RevokeJson(result.requested(), result.revoked(), result.stillRevoking(), result.deferred()));
    }

    private Reply leak(AdminRequest request) {
        LeakRequest body = request.body(LeakRequest.class);
        LeakResponse.Result result = call(() -> leaks.report(body.value(), body.ban().orElse(false), request.actor().describe()));
        return Reply.ok(new LeakJson(result.found(), result.leases().stream().map(LeaseId::value).toList(),
                result.tokenHolder().isPresent(), result.holders(), result.bannedEntries()));
    }

    private String metrics() {
        StringBuilder text = new StringBuilder();
        text.append("# HELP sigil_leases Leases by state.\n# TYPE sigil_leases gauge\n");
        leases.store().countByState().forEach((state, count) ->
                text.append("sigil_leases{state=\"").append(state.wireName()).append("\"} ").append(count).append('\n'));
        text.append("# HELP sigil_lease_revocations_failing Revoking leases whose backend revocation failed at least once.\n")
                .append("# TYPE sigil_lease_revocations_failing gauge\n")
                .append("sigil_lease_revocations_failing ").append(leases.store().failingRevocations()).append('\n');
        return text.toString();
    }

    private LeaseFilter filter(AdminRequest request) {
        return call(() -> {
            LeaseFilter f = LeaseFilter.all();
            Optional<String> value;
            if ((value = request.query("holder")).isPresent()) {
                f = f.withHolder(SpiffeId.parse(value.get()));
            }
            if ((value = request.query("task")).isPresent()) {
                f = f.withTask(value.get());
            }
            if ((value = request.query("agent")).isPresent()) {
                f = f.withAgent(SpiffeId.parse(value.get()));
            }
            if ((value = request.query("broker")).isPresent()) {
                f = f.withBroker(value.get());
            }
            if ((value = request.query("prefix")).isPresent()) {
                f = f.withPrefix(value.get());
            }
            if ((value = request.query("state")).isPresent()) {
                f = f.withState(LeaseState.parse(value.get()));
            }
            return f;
        });
    }

    private Lease find(String id) {
        return leases.find(id(id)).orElseThrow(() -> ApiException.notFound("no lease has id '" + id + "'"));
    }

    private static LeaseId id(String text) {
        return call(() -> LeaseId.parse(text));
    }

    /** Runs {@code work}, mapping lease refusals and invalid values to admin API errors. */
    private static <T> T call(Supplier<T> work) {
        try {
            return work.get();
        } catch (LeaseException e) {
            ErrorCode code = switch (e) {
                case LeaseException.Invalid invalid -> ErrorCode.INVALID_ARGUMENT;
                case LeaseException.Denied denied -> ErrorCode.PERMISSION_DENIED;
                case LeaseException.NotFound notFound -> ErrorCode.NOT_FOUND;
                case LeaseException.Unavailable unavailable -> ErrorCode.UNAVAILABLE;
            };
            throw new ApiException(code, e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidArgument(e.getMessage());
        }
    }
}
