package dev.sigil.server.audit;

import dev.sigil.server.admin.AdminRequest;
import dev.sigil.server.admin.ApiException;
import dev.sigil.server.admin.Reply;
import dev.sigil.server.admin.Routes;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Admin API routes of the audit trail: {@code POST /v1/audit/verify} (a broken chain is a result, not
 * an error), {@code GET /v1/audit} (query; {@code kind=drift} selects workload drift reports, see
 * {@link AuditQuery#byKind}), {@code GET /v1/audit/checkpoint-key} (the PEM public key
 * that signs checkpoints, for offline verification) and {@code POST /v1/audit/find-token} (records
 * of a leaked token, found by its keyed hash computed here).
 */
public final class AuditRoutes {
    private final AuditTrail audit;
    private final AuditCheckpoints checkpoints;
    private final SecretHasher hasher;

    public AuditRoutes(AuditTrail audit, AuditCheckpoints checkpoints, SecretHasher hasher) {
        this.audit = audit;
        this.checkpoints = checkpoints;
        this.hasher = hasher;
    }

    record VerifyReply(boolean intact, Long records, String head, Long firstBadSequence, String reason) {
    }

    record RecordJson(long seq, String time, String actor, String action, String subject, String outcome, String details,
            String prevHash, String hash) {
        static RecordJson of(AuditRecord r) {
            return new RecordJson(r.seq(), r.time().toString(), r.actor(), r.action(), r.subject(), r.outcome().wireName(),
                    r.details(), r.prevHash(), r.hash());
        }
    }

    record CheckpointKeyReply(String keyId, String algorithm, String pem) {
    }

    record FindTokenRequest(String token) {
    }

    public Routes routes() {
        return Routes.builder()
                .post("/v1/audit/verify", request -> Reply.ok(switch (audit.verify()) {
                    case AuditVerification.Intact intact -> new VerifyReply(true, intact.count(), intact.headHash(), null, null);
                    case AuditVerification.Broken broken -> new VerifyReply(false, null, null, broken.firstBadSeq(),
                            broken.reason());
                }))
                .get("/v1/audit", request -> results(audit.query(query(request))))
                .get("/v1/audit/checkpoint-key", request -> Reply.ok(
                        new CheckpointKeyReply(AuditCheckpoints.KEY_ID, "ecdsa-p256-sha256", checkpoints.publicKeyPem())))
                .post("/v1/audit/find-token", request -> {
                    FindTokenRequest body = request.body(FindTokenRequest.class);
                    if (body.token() == null || body.token().isEmpty()) {
                        throw ApiException.invalidArgument("body field 'token' is missing or empty; send {\"token\": \"<the leaked token>\"}");
                    }
                    return results(audit.query(AuditQuery.all().byDetail("token_hmac", hasher.keyedHash(body.token()))
                            .limit(AuditQuery.MAX_LIMIT)));
                })
                .build();
    }

    private static Reply results(List<AuditRecord> records) {
        return Reply.ok(Map.of("results", records.stream().map(RecordJson::of).toList()));
    }

    static AuditQuery query(AdminRequest request) {
        AuditQuery query = AuditQuery.all().limit(request.queryInt("limit", 1, AuditQuery.MAX_LIMIT).orElse(100));
        Optional<String> workload = request.query("workload");
        if (workload.isPresent()) {
            query = query.byWorkload(workload.get());
        }
        for (String key : List.of("resource", "task", "token_hmac")) {
            Optional<String> value = request.query(key);
            if (value.isPresent()) {
                query = query.byDetail(key, value.get());
            }
        }
        Optional<String> action = request.query("action");
        Optional<String> kind = request.query("kind");
        if (action.isPresent() && kind.isPresent()) {
            throw ApiException.invalidArgument("query parameters 'kind' and 'action' both select actions; give one of them");
        }
        if (action.isPresent()) {
            query = query.byActionPrefix(action.get());
        }
        if (kind.isPresent()) {
            try {
                query = query.byKind(kind.get());
            } catch (AuditException e) {
                throw ApiException.invalidArgument(e.getMessage());
            }
        }
        Optional<String> since = request.query("since");
        if (since.isPresent()) {
            query = query.since(instant("since", since.get()));
        }
        Optional<String> until = request.query("until");
        if (until.isPresent()) {
            query = query.until(instant("until", until.get()));
        }
        Optional<String> after = request.query("after");
        if (after.isPresent()) {
            try {
                query = query.after(Long.parseLong(after.get()));
            } catch (NumberFormatException e) {
                throw ApiException.invalidArgument("query parameter 'after' is '" + after.get() + "'; expected a sequence number");
            }
        }
        return query;
    }

    private static Instant instant(String name, String text) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw ApiException.invalidArgument("query parameter '" + name + "' is '" + text
                    + "'; expected an RFC 3339 time such as 2026-01-31T12:00:00Z");
        }
    }
}
