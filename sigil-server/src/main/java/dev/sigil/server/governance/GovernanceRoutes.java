package dev.sigil.server.governance;

import dev.sigil.server.admin.AdminRequest;
import dev.sigil.server.admin.Reply;
import dev.sigil.server.admin.Routes;
import java.util.Optional;

/**
 * Admin API for governance: {@code GET /v1/inventory}, {@code GET /v1/posture},
 * {@code POST /v1/owners/transfer {owner, to, dry_run?}} and {@code POST /v1/owners/offboard {owner, dry_run?}}
 * (docs/admin-api.md, "Governance"). Transfers and offboardings are audited with the caller as actor.
 */
public final class GovernanceRoutes {
    private final Governance governance;

    public GovernanceRoutes(Governance governance) {
        this.governance = governance;
    }

    record TransferRequest(String owner, String to, Optional<Boolean> dryRun) {
    }

    record OffboardRequest(String owner, Optional<Boolean> dryRun) {
    }

    public Routes routes() {
        return Routes.builder()
                .get("/v1/inventory", request -> Reply.ok(governance.inventory()))
                .get("/v1/posture", request -> Reply.ok(governance.posture()))
                .post("/v1/owners/transfer", this::transfer)
                .post("/v1/owners/offboard", this::offboard)
                .build();
    }

    private Reply transfer(AdminRequest request) {
        TransferRequest body = request.body(TransferRequest.class);
        return Reply.ok(governance.transfer(body.owner(), body.to(), body.dryRun().orElse(false), request.actor().describe()));
    }

    private Reply offboard(AdminRequest request) {
        OffboardRequest body = request.body(OffboardRequest.class);
        return Reply.ok(governance.offboard(body.owner(), body.dryRun().orElse(false), request.actor().describe()));
    }
}
