package dev.sigil.server.drift;

import dev.sigil.server.datastore.Transaction;
import dev.sigil.core.Printable;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.credential.LeaseFilter;
import dev.sigil.server.credential.LeaseRevoker;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.token.IssuedTokens;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The one "withdraw a holder" operation, behind every response that takes an identity's credentials away:
 * a drift answered with {@code revoke}, a SPIFFE ID no registration entry issues any more, a banned agent.
 *
 * <p>Guarantees, in this order:
 * <ol>
 *   <li>In one transaction: the holder's live access tokens are revoked (registry, status list and their
 *       {@code token} leases), its JWT-SVIDs are marked invalid on the status list, the gate (when given) is
 *       stored, and the cause's audit record is appended with what was revoked ({@code revoked_tokens},
 *       {@code revoked_jtis}, {@code gate}). Nothing is revoked without its record, and no record claims a
 *       revocation that did not commit.</li>
 *   <li>The gate is made effective in this server at once (other servers load it from the datastore).</li>
 *   <li>Every pending or active lease of the holder is marked revoking, its intent and audit committed before
 *       any backend call, and tried once; the lease revoker retries what failed until it succeeds.</li>
 * </ol>
 */
public final class Withdrawals {
    static final String ACTOR = "sigil-server";
    private static final int MAX_JTIS_DETAIL = 1_800;

    /**
     * One withdrawal.
     *
     * @param reason      why, as the lease revocations record it ({@code drift <id>}, {@code no registration entry})
     * @param gate        refuses new grants on credentials minted before it; empty for none
     * @param auditAction the cause's audit action ({@code drift.respond}, {@code identity.withdraw})
     * @param details     the cause's audit details; what was revoked is added
     */
    public record Withdrawal(SpiffeId holder, String reason, Optional<DriftGates.Gate> gate, String auditAction,
                             Map<String, String> details) {
        public Withdrawal {
            Objects.requireNonNull(holder, "holder");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(gate, "gate");
            Objects.requireNonNull(auditAction, "auditAction");
            details = Map.copyOf(details);
        }
    }

    /** What was withdrawn: the access tokens revoked, and the leases marked for revocation and already confirmed. */
    public record Result(List<String> revokedTokens, int leasesMarked, int leasesRevoked) {
        public Result {
            revokedTokens = List.copyOf(revokedTokens);
        }
    }

    private final Optional<LeaseService> leases;
    private final IssuedTokens tokens;
    private final DriftGates gates;
    private final Datastore datastore;
    private final AuditTrail audit;
    private final Clock clock;

    public Withdrawals(Optional<LeaseService> leases, IssuedTokens tokens, DriftGates gates, Datastore datastore, AuditTrail audit,
                       Clock clock) {
        this.leases = Objects.requireNonNull(leases, "leases");
        this.tokens = Objects.requireNonNull(tokens, "tokens");
        this.gates = Objects.requireNonNull(gates, "gates");
        this.datastore = Objects.requireNonNull(datastore, "datastore");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public Result withdraw(Withdrawal withdrawal) {
        SpiffeId holder = withdrawal.holder();
        Map<String, String> details = new LinkedHashMap<>(withdrawal.details());
        List<String> jtis = datastore.transaction(transaction -> {
            List<String> revoked = tokens.revokeForHolder(transaction, holder.toString(), clock.instant());
            details.put("revoked_tokens", Integer.toString(revoked.size()));
            details.put("revoked_jtis", Printable.clip(String.join(",", revoked), MAX_JTIS_DETAIL));
            if (withdrawal.gate().isPresent()) {
                DriftGates.set(transaction, withdrawal.gate().get());
                details.put("gate", withdrawal.gate().get().driftId());
            }
            audit.append(transaction, AuditEvent.success(ACTOR, withdrawal.auditAction(), holder.toString(), details));
            return revoked;
        });
        withdrawal.gate().ifPresent(gates::remember);
        if (leases.isEmpty()) {
            return new Result(jtis, 0, 0);
        }
        LeaseRevoker.Result marked = leases.get().revoke(LeaseFilter.all().withHolder(holder), withdrawal.reason(), ACTOR);
        return new Result(jtis, marked.requested(), marked.revoked());
    }
}
