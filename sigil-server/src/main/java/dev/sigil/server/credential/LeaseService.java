package dev.sigil.server.credential;

import static dev.sigil.core.Printable.clip;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.Transaction;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.task.Task;
import dev.sigil.server.evidence.SubjectEvidence;
import dev.sigil.server.grant.Authorization;
import dev.sigil.server.grant.GrantPipeline;
import dev.sigil.server.grant.GrantRefused;
import dev.sigil.server.grant.GrantRequest;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Grants, renews and revokes leases over brokered credentials.
 *
 * <p>Guarantees ("nothing granted that is not recorded, nothing revoked only on paper"):
 * <ul>
 *   <li>A grant is recorded {@code pending} together with its audit record <em>before</em> the broker
 *       is called; it becomes {@code active} together with its {@code credential.grant} record. A grant
 *       that throws, or whose activation cannot be committed, becomes {@code revoking}; a crash leaves
 *       it {@code pending}, which {@link LeaseRevoker#reconcile()} turns into {@code revoking}.</li>
 *   <li>A revocation's intent and its audit record are committed before the broker is called; the
 *       {@link LeaseRevoker} retries the backend until it succeeds.</li>
 *   <li>Policy decides action {@value #ACTION} on resource {@code <broker>:<resource>} for the holder
 *       (fail closed); its {@code maxTtl} caps the lease's whole life, renewals included.</li>
 *   <li>The secret is returned once and never stored, logged or audited; the store and the audit hold
 *       only the keyed hash of its leak key.</li>
 * </ul>
 */
public final class LeaseService {
    public static final String ACTION = "credential:issue";
    private static final int MAX_PARAMETERS = 16;
    private static final int MAX_TEXT = 512;

    /** What the service is wired with; see {@code SigilServer}. */
    public record Dependencies(LeaseStore store, Datastore datastore, AuditTrail audit, PolicyEngine policy,
                               Function<String, Optional<Task>> tasks, SubjectEvidence evidence,
                               Function<SpiffeId, Optional<SpiffeId>> agentOf, UnaryOperator<String> leakHasher,
                               List<ConfiguredBroker> brokers, Clock clock, Function<SpiffeId, Optional<String>> renewalRefusal,
                               ClusterView cluster) {
        /** Alone on its datastore. */
        public Dependencies(LeaseStore store, Datastore datastore, AuditTrail audit, PolicyEngine policy,
                            Function<String, Optional<Task>> tasks, SubjectEvidence evidence,
                            Function<SpiffeId, Optional<SpiffeId>> agentOf, UnaryOperator<String> leakHasher,
                            List<ConfiguredBroker> brokers, Clock clock, Function<SpiffeId, Optional<String>> renewalRefusal) {
            this(store, datastore, audit, policy, tasks, evidence, agentOf, leakHasher, brokers, clock, renewalRefusal, ClusterView.alone());
        }

        /** Without a renewal gate: every active lease may be renewed within its bounds. */
        public Dependencies(LeaseStore store, Datastore datastore, AuditTrail audit, PolicyEngine policy,
                            Function<String, Optional<Task>> tasks, SubjectEvidence evidence,
                            Function<SpiffeId, Optional<SpiffeId>> agentOf, UnaryOperator<String> leakHasher,
                            List<ConfiguredBroker> brokers, Clock clock) {
            this(store, datastore, audit, policy, tasks, evidence, agentOf, leakHasher, brokers, clock, holder -> Optional.empty());
        }

        public Dependencies {
            Objects.requireNonNull(renewalRefusal, "renewalRefusal");
            Objects.requireNonNull(cluster, "cluster");
            Objects.requireNonNull(store, "store");
            Objects.requireNonNull(datastore, "datastore");
            Objects.requireNonNull(audit, "audit");
            Objects.requireNonNull(policy, "policy");
            Objects.requireNonNull(tasks, "tasks");
            Objects.requireNonNull(evidence, "evidence");
            Objects.requireNonNull(agentOf, "agentOf");
            Objects.requireNonNull(leakHasher, "leakHasher");
            brokers = List.copyOf(brokers);
            Objects.requireNonNull(clock, "clock");
        }
    }

    /**
     * A workload's request, from verified transport evidence only.
     *
     * @param holder     the verified caller
     * @param mutualTls  whether the caller proved possession of its X.509-SVID on this connection
     * @param delegation verified delegation chain, outermost actor first
     * @param ttl        requested lifetime; the broker default when empty; capped, never refused for size
     */
    public record IssueRequest(SpiffeId holder, boolean mutualTls, List<SpiffeId> delegation, String broker, String resource,
                               Optional<String> task, Optional<Duration> ttl, Map<String, String> parameters) {
        public IssueRequest {
            Objects.requireNonNull(holder, "holder");
            delegation = List.copyOf(delegation);
            Objects.requireNonNull(broker, "broker");
            Objects.requireNonNull(resource, "resource");
            Objects.requireNonNull(task, "task");
            Objects.requireNonNull(ttl, "ttl");
            parameters = Map.copyOf(parameters);
        }
    }

    /** A granted lease and its secret, for the one response to the holder. */
    public record Issued(Lease lease, CredentialSecret secret) {
    }

    private final Dependencies deps;
    private final Map<String, ConfiguredBroker> brokers = new TreeMap<>();
    private final LeaseRevoker revoker;
    private final GrantPipeline grants;

    public LeaseService(Dependencies deps) {
        this(deps, LeaseRevoker.IMMEDIATE_BUDGET);
    }

    /** {@code immediateBudget}: how long a revocation request spends on first attempts before it answers. */
    LeaseService(Dependencies deps, Duration immediateBudget) {
        this.deps = Objects.requireNonNull(deps, "deps");
        for (ConfiguredBroker broker : deps.brokers()) {
            if (brokers.put(broker.name(), broker) != null) {
                throw new IllegalArgumentException("broker '" + broker.name() + "' is configured twice");
            }
        }
        this.grants = new GrantPipeline(deps.policy(), deps.tasks(), deps.evidence(), deps.audit(), deps.clock());
        this.revoker = new LeaseRevoker(deps.store(), deps.datastore(), deps.audit(), brokers, deps.clock(), deps.cluster(), immediateBudget);
    }

    /** The background revocation worker, expiry reaper and start-up reconciliation. */
    public LeaseRevoker revoker() {
        return revoker;
    }

    public LeaseStore store() {
        return deps.store();
    }

    /** The configured brokers by name. */
    public Map<String, ConfiguredBroker> brokers() {
        return java.util.Collections.unmodifiableMap(brokers);
    }

    /**
     * Grants a lease for {@code request}.
     *
     * @throws LeaseException.Invalid     unknown broker, resource or malformed parameter
     * @throws LeaseException.Denied      task or policy refuse
     * @throws LeaseException.Unavailable the backend or the datastore failed; nothing usable was granted
     */
    public Issued issue(IssueRequest request) {
        ConfiguredBroker configured = brokers.get(request.broker());
        if (configured == null) {
            throw new LeaseException.Invalid("broker '" + clip(request.broker()) + "' is not configured; configured: "
                    + (brokers.isEmpty() ? "none" : String.join(", ", brokers.keySet())));
        }
        if (!configured.requestable()) {
            throw new LeaseException.Invalid("broker '" + configured.name() + "' cannot be requested here: its credentials have their own "
                    + "front door (access tokens: token exchange, POST /oauth2/token)");
        }
        checkText("resource", request.resource());
        if (request.parameters().size() > MAX_PARAMETERS) {
            throw new LeaseException.Invalid("at most " + MAX_PARAMETERS + " parameters are allowed, got " + request.parameters().size());
        }
        request.ttl().ifPresent(ttl -> {
            if (ttl.toSeconds() < 1) {
                throw new LeaseException.Invalid("ttl " + ttl + " must be at least one second");
            }
        });
        Broker broker = configured.broker();
        try {
            broker.check(request.resource(), request.parameters());
        } catch (BrokerException.Rejected e) {
            throw new LeaseException.Invalid(e.getMessage());
        }
        String qualified = broker.type() + ":" + request.resource();
        Map<String, String> details = new LinkedHashMap<>();
        details.put("broker", broker.type());
        details.put("resource", request.resource());
        details.put("mtls", Boolean.toString(request.mutualTls()));
        request.task().ifPresent(t -> details.put("task", clip(t)));
        if (!request.delegation().isEmpty()) {
            details.put("delegation", clip(String.join(" ", request.delegation().stream().map(SpiffeId::toString).toList())));
        }

        Authorization allowed;
        try {
            allowed = grants.authorize(new GrantRequest(request.holder(), request.delegation().stream().findFirst(), request.delegation(),
                    request.mutualTls(), ACTION, GrantRequest.Target.resource(qualified), List.of(), request.task(),
                    Map.of("broker", broker.type()), new GrantRequest.Limits("lease", request.ttl(), configured.defaultTtl(),
                    configured.maxTtl(), Optional.empty())), new GrantPipeline.AuditSite("credential.grant", details));
        } catch (GrantRefused refused) {
            throw new LeaseException.Denied(refused.getMessage());
        }
        Optional<Task> task = allowed.task();
        Instant now = allowed.issuedAt();
        Instant expiresAt = allowed.expiresAt();
        Instant maxExpiresAt = allowed.maxExpiresAt();

        LeaseId id = LeaseId.random();
        Lease pending = new Lease(id, broker.type(), request.holder(), task.map(Task::id), request.resource(), now, expiresAt,
                maxExpiresAt, LeaseState.PENDING, Map.of(), Optional.empty(), deps.agentOf().apply(request.holder()),
                request.delegation(), Optional.empty());
        details.put("lease_id", id.value());
        details.put("expires_at", expiresAt.toString());
        details.put("max_expires_at", maxExpiresAt.toString());
        details.put("reasons", GrantPipeline.reasons(allowed.reasons()));
        // Durable before the broker is called (group-committed with concurrent grants: append returns only
        // once this record and the pending row are committed), so a crash never leaves an untracked credential.
        deps.audit().append(AuditEvent.success(request.holder().toString(), "credential.grant_started", request.holder().toString(),
                details), transaction -> deps.store().insert(transaction, pending, deps.cluster().self()));

        LeaseGrant grant = new LeaseGrant(id, broker.type(), request.holder(), pending.task(), request.resource(), now, expiresAt,
                request.delegation(), allowed.holder().obligations(), request.parameters());
        Granted granted;
        try {
            granted = broker.grant(grant);
        } catch (RuntimeException e) {
            revoker.grantFailed(pending, e);
            throw e instanceof BrokerException.Rejected rejected
                    ? new LeaseException.Invalid(rejected.getMessage())
                    : new LeaseException.Unavailable("broker " + broker.type() + " could not grant on " + request.resource()
                    + ": " + e.getMessage() + "; nothing was granted", e);
        }
        String leakHash = deps.leakHasher().apply(granted.secret().leakKey());
        Map<String, String> grantDetails = new LinkedHashMap<>(details);
        granted.details().forEach((k, v) -> grantDetails.putIfAbsent(detailKey(k), clip(v)));
        grantDetails.put("leak_hmac", leakHash);
        boolean activated = true;
        try {
            // group-committed; a lease revoked meanwhile fails only its own write (and writes no grant record)
            deps.audit().append(AuditEvent.success(request.holder().toString(), "credential.grant", request.holder().toString(),
                    trim(grantDetails)), transaction -> {
                        if (!deps.store().activate(transaction, id, granted.details(), leakHash)) {
                            throw new NoLongerPending();
                        }
                    });
        } catch (NoLongerPending e) {
            activated = false;
        } catch (RuntimeException e) {
            revoker.grantFailed(pending, e);
            throw new LeaseException.Unavailable("lease " + id + " was granted but could not be recorded; it is being revoked", e);
        }
        if (!activated) {
            revoker.wake();
            throw new LeaseException.Denied("lease " + id + " was revoked while it was being granted");
        }
        Lease active = new Lease(id, pending.broker(), pending.holder(), pending.task(), pending.resource(), now, expiresAt,
                maxExpiresAt, LeaseState.ACTIVE, granted.details(), Optional.of(leakHash), pending.agent(), pending.delegation(),
                Optional.empty());
        return new Issued(active, granted.secret());
    }

    /**
     * Where a {@link #mint} is audited: the action and details of its one record, and the detail that
     * holds the keyed hash of the credential's leak key ({@code token_hmac} for access tokens).
     */
    public record MintAudit(String action, Map<String, String> details, String hashDetail) {
        public MintAudit {
            Objects.requireNonNull(action, "action");
            details = Map.copyOf(details);
            Objects.requireNonNull(hashDetail, "hashDetail");
        }
    }

    /**
     * Mints a credential of a {@link LocalBroker} for a grant its front door has already authorized (the
     * grant pipeline decided task, policy, scopes and lifetime) and records it, fail closed: the lease
     * (active, not renewable), the broker's records and the audit record commit in one transaction,
     * group-committed with concurrent mints, before the secret is returned; if that commit fails, nothing
     * is returned and nothing usable exists. The lease's agent is not looked up: a local credential is
     * withdrawn by its holder ({@code drift.Withdrawals}), so the hot path costs no entry query.
     *
     * @throws IllegalArgumentException when {@code brokerName} is not a configured local broker (a wiring mistake)
     */
    public Issued mint(String brokerName, LeaseGrant grant, MintAudit audit) {
        ConfiguredBroker configured = brokers.get(brokerName);
        if (configured == null || !(configured.broker() instanceof LocalBroker local)) {
            throw new IllegalArgumentException("broker '" + brokerName + "' is not a configured local broker");
        }
        LocalBroker.Minted minted = local.mint(grant);
        String leakHash = deps.leakHasher().apply(minted.granted().secret().leakKey());
        Lease lease = new Lease(grant.id(), local.type(), grant.holder(), grant.task(), grant.resource(), grant.issuedAt(),
                grant.expiresAt(), grant.expiresAt(), LeaseState.ACTIVE, minted.granted().details(), Optional.of(leakHash),
                Optional.empty(), grant.delegation(), Optional.empty());
        Map<String, String> details = new LinkedHashMap<>(audit.details());
        details.put(audit.hashDetail(), leakHash);
        deps.audit().append(AuditEvent.success(grant.holder().toString(), audit.action(), grant.holder().toString(), details),
                transaction -> {
                    minted.records().write(transaction);
                    deps.store().insert(transaction, lease);
                });
        return new Issued(lease, minted.granted().secret());
    }

    /**
     * Extends an active lease to now + {@code ttl} (the broker default when empty), never past its
     * maximum expiry. The backend is extended first: if the store update then fails, the store holds
     * the earlier expiry and the lease is revoked early, never late.
     */
    public Lease renew(LeaseId id, Optional<Duration> ttl, String actor) {
        AuditEvent.checkActor(actor);
        Lease lease = deps.store().find(id).orElseThrow(() -> new LeaseException.NotFound("no lease has id '" + id + "'"));
        if (lease.state() != LeaseState.ACTIVE) {
            throw new LeaseException.Invalid("lease " + id + " is " + lease.state().wireName() + "; only an active lease can be renewed");
        }
        ConfiguredBroker configured = brokers.get(lease.broker());
        if (configured == null) {
            throw new LeaseException.Unavailable("broker '" + lease.broker() + "' of lease " + id + " is not configured", null);
        }
        Optional<String> refused = deps.renewalRefusal().apply(lease.holder());
        if (refused.isPresent()) {
            throw new LeaseException.Denied(refused.get());
        }
        Instant now = deps.clock().instant().truncatedTo(ChronoUnit.SECONDS);
        Duration wanted = ttl.orElse(configured.defaultTtl());
        if (wanted.toSeconds() < 1) {
            throw new LeaseException.Invalid("ttl " + wanted + " must be at least one second");
        }
        Instant newExpiry = now.plus(wanted.truncatedTo(ChronoUnit.SECONDS));
        if (newExpiry.isAfter(lease.maxExpiresAt())) {
            newExpiry = lease.maxExpiresAt();
        }
        if (!newExpiry.isAfter(lease.expiresAt())) {
            throw new LeaseException.Invalid("lease " + id + " cannot be extended: it already expires at " + lease.expiresAt()
                    + " and may not outlive " + lease.maxExpiresAt());
        }
        try {
            configured.broker().renew(lease.toGrant(), newExpiry);
        } catch (BrokerException.Rejected e) {
            throw new LeaseException.Invalid("broker " + lease.broker() + " cannot renew lease " + id + ": " + e.getMessage());
        } catch (RuntimeException e) {
            throw new LeaseException.Unavailable("broker " + lease.broker() + " could not renew lease " + id + ": " + e.getMessage(), e);
        }
        Instant expiry = newExpiry;
        boolean renewed = deps.datastore().transaction(transaction -> {
            if (!deps.store().renew(transaction, id, expiry)) {
                return false;
            }
            deps.audit().append(transaction, AuditEvent.success(actor, "credential.renew", lease.holder().toString(), Map.of(
                    "lease_id", id.value(), "broker", lease.broker(), "expires_at", expiry.toString(),
                    "previous_expires_at", lease.expiresAt().toString())));
            return true;
        });
        if (!renewed) {
            throw new LeaseException.Invalid("lease " + id + " was revoked while it was being renewed");
        }
        return deps.store().find(id).orElseThrow();
    }

    /**
     * Requests revocation of every pending or active lease matching {@code filter} (intent and audit
     * committed first), then tries each backend once at once, for at most {@link LeaseRevoker#IMMEDIATE_BUDGET};
     * failures, and leases not attempted within it, are revoked by the worker.
     *
     * @return how many leases were marked, how many of them the backend already confirmed, and how many
     *     were left to the worker without an attempt
     */
    public LeaseRevoker.Result revoke(LeaseFilter filter, String reason, String actor) {
        AuditEvent.checkActor(actor);
        if (filter.isEmpty()) {
            throw new LeaseException.Invalid("name which leases to revoke: id, holder, task, agent, broker or prefix");
        }
        List<Lease> marked = deps.datastore().transaction(transaction -> revoker.markRevokingToAttempt(transaction, filter, reason, actor));
        return revoker.attemptNow(marked);
    }

    /**
     * Marks the leases granted under {@code taskId} revoking inside the transaction that ends the task
     * (a {@code TaskStore.EndListener}); the worker revokes them once it commits.
     */
    public void revokeForTask(Transaction transaction, String taskId, Instant at) throws SQLException {
        revoker.markRevoking(transaction, LeaseFilter.all().withTask(taskId), "task ended", "sigil-server");
        revoker.wake();
    }

    public Optional<Lease> find(LeaseId id) {
        return deps.store().find(id);
    }

    public List<Lease> list(LeaseFilter filter, int limit) {
        return deps.store().list(filter, limit);
    }

    /** A broker's detail name as an audit detail key ({@code detail_} + {@code [a-z0-9_]}, at most 64 characters). */
    static String detailKey(String name) {
        String key = "detail_" + name.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        return key.length() <= 64 ? key : key.substring(0, 64);
    }

    /** Thrown inside an activation's transaction to roll it back: the lease was revoked while its grant ran. */
    private static final class NoLongerPending extends RuntimeException {
        NoLongerPending() {
            super("lease is no longer pending", null, false, false);
        }
    }

    private static Map<String, String> trim(Map<String, String> details) {
        Map<String, String> trimmed = new LinkedHashMap<>();
        details.entrySet().stream().limit(AuditEvent.MAX_DETAILS).forEach(e -> trimmed.put(e.getKey(), e.getValue()));
        return trimmed;
    }

    private static void checkText(String what, String value) {
        if (value.isBlank() || value.length() > MAX_TEXT || value.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
            throw new LeaseException.Invalid(what + " '" + clip(value) + "' must be 1 to " + MAX_TEXT + " characters without spaces");
        }
    }

}
