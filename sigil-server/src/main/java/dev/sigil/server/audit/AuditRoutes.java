package dev.sigil.server.audit;

import dev.sigil.server.admin.Reply;
import dev.sigil.server.admin.Routes;

/** Admin API routes of the audit trail: {@code POST /v1/audit/verify}. A broken chain is a result, not an error. */
public final class AuditRoutes {
    private final AuditTrail audit;

    public AuditRoutes(AuditTrail audit) {
        this.audit = audit;
    }

    record VerifyReply(boolean intact, Long records, String head, Long firstBadSequence, String reason) {
    }

    public Routes routes() {
        return Routes.builder()
                .post("/v1/audit/verify", request -> Reply.ok(switch (audit.verify()) {
                    case AuditVerification.Intact intact -> new VerifyReply(true, intact.count(), intact.headHash(), null, null);
                    case AuditVerification.Broken broken -> new VerifyReply(false, null, null, broken.firstBadSeq(),
                            broken.reason());
                }))
                .build();
    }
}
