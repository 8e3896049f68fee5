package dev.sigil.server.grant;

import static dev.sigil.core.Printable.clip;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.evidence.SubjectEvidence;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.policy.PolicyRequest;
import dev.sigil.server.task.Task;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whether a verified holder gets a credential and what it may carry, in one order for every
 * kind of credential:
 * <ol>
 *   <li><b>Task boundary.</b> A named task must exist, be active, be held by the holder, and allow the
 *       target and every requested scope.</li>
 *   <li><b>Policy</b> allows the action on the target for the holder, and for the actor when there is
 *       one. A policy engine that throws denies (fail closed).</li>
 *   <li><b>Scopes</b>: the requested ones (or, when none are requested, what policy allows the holder),
 *       narrowed to what policy allows the holder, then the actor. An actor asking beyond what policy
 *       allows it is refused: an actor can only narrow. Requested scopes of which none survive are
 *       refused; policy that names no scopes grants none.</li>
 *   <li><b>Obligations</b>: mutual TLS when the holder's or the actor's allow requires it.</li>
 *   <li><b>Lifetime</b>: requested (else the default), capped by the front door's maximum, by policy's
 *       {@code max_ttl} for holder and actor, by the task's end and by the front door's deadline; a
 *       credential with no lifetime left is refused.</li>
 * </ol>
 * Every refusal is audited (outcome {@code denied}, under the holder, with the front door's details, the
 * error, the reasons and the description) before {@link GrantRefused} is thrown; an audit failure is
 * logged and the refusal still stands. What is granted is recorded by the front door, with the minted
 * credential, in one transaction.
 */
public final class GrantPipeline {
    private static final Logger LOG = LoggerFactory.getLogger(GrantPipeline.class);
    private static final int MAX_REASONS = 1000;

    private final PolicyEngine policy;
    private final Function<String, Optional<Task>> tasks;
    private final SubjectEvidence evidence;
    private final AuditTrail audit;
    private final Clock clock;

    public GrantPipeline(PolicyEngine policy, Function<String, Optional<Task>> tasks, SubjectEvidence evidence, AuditTrail audit,
                         Clock clock) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.tasks = Objects.requireNonNull(tasks, "tasks");
        this.evidence = Objects.requireNonNull(evidence, "evidence");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Where refusals are audited: the audit action ({@code token.exchange}, {@code credential.grant}) and the
     * request's details as the front door records them (target, scopes, task, ...); the map is not changed.
     */
    public record AuditSite(String action, Map<String, String> details) {
        public AuditSite {
            Objects.requireNonNull(action, "action");
            details = Map.copyOf(details);
        }
    }

    /**
     * Runs every check for {@code request}.
     *
     * @throws GrantRefused (already audited at {@code site}) when any check refuses
     */
    public Authorization authorize(GrantRequest request, AuditSite site) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        SpiffeId holder = request.holder();
        Optional<Task> task = request.task().map(id -> checkTask(id, request, site));

        Map<String, Object> attributes = new HashMap<>(request.attributes());
        attributes.put("mtls", request.mutualTls());
        Decision forHolder = decide(new PolicyRequestParts(holder, request.delegation(), attributes), request, now);
        Decision.Allow holderAllow = allowOrRefuse(forHolder, holder, request, site);
        Optional<Decision.Allow> actorAllow = Optional.empty();
        if (request.actor().isPresent()) {
            SpiffeId actor = request.actor().get();
            Map<String, Object> actorAttributes = new HashMap<>(attributes);
            actorAttributes.put("on_behalf_of", holder.toString());
            Decision forActor = decide(new PolicyRequestParts(actor, List.of(), actorAttributes), request, now);
            actorAllow = Optional.of(allowOrRefuse(forActor, actor, request, site));
        }

        Set<String> scopes = scopes(request, holderAllow, actorAllow, forHolder, site);

        boolean requireMtls = holderAllow.obligations().requireMutualTls()
                || actorAllow.map(a -> a.obligations().requireMutualTls()).orElse(false);
        if (requireMtls && !request.mutualTls()) {
            throw refuse(GrantRefused.Kind.ACCESS_DENIED, "policy requires proof of possession: call over mutual tls with an "
                    + "x509-svid", forHolder.reasons(), request, site);
        }

        GrantRequest.Limits limits = request.limits();
        Duration cap = limits.maxTtl();
        for (Optional<Duration> obliged : List.of(holderAllow.obligations().maxTtl(), actorAllow.flatMap(a -> a.obligations().maxTtl()))) {
            if (obliged.isPresent() && obliged.get().compareTo(cap) < 0) {
                cap = obliged.get();
            }
        }
        Instant maxExpiresAt = now.plus(cap.truncatedTo(ChronoUnit.SECONDS));
        if (task.isPresent() && task.get().expiresAt().isBefore(maxExpiresAt)) {
            maxExpiresAt = task.get().expiresAt().truncatedTo(ChronoUnit.SECONDS);
        }
        if (limits.deadline().isPresent() && limits.deadline().get().isBefore(maxExpiresAt)) {
            maxExpiresAt = limits.deadline().get().truncatedTo(ChronoUnit.SECONDS);
        }
        Instant expiresAt = now.plus(limits.requested().orElse(limits.defaultTtl()).truncatedTo(ChronoUnit.SECONDS));
        if (expiresAt.isAfter(maxExpiresAt)) {
            expiresAt = maxExpiresAt;
        }
        if (!expiresAt.isAfter(now)) {
            throw refuse(GrantRefused.Kind.ACCESS_DENIED, "the " + limits.credential() + " would expire immediately (task or policy "
                    + "lifetime exhausted)", forHolder.reasons(), request, site);
        }
        return new Authorization(task, holderAllow, actorAllow, scopes, now, expiresAt, maxExpiresAt);
    }

    private Task checkTask(String taskId, GrantRequest request, AuditSite site) {
        SpiffeId holder = request.holder();
        Instant now = clock.instant();
        Task task = tasks.apply(taskId).orElseThrow(() -> refuse(GrantRefused.Kind.ACCESS_DENIED,
                "task '" + clip(taskId) + "' does not exist", List.of("unknown task"), request, site));
        Task.State state = task.state(now);
        if (state != Task.State.ACTIVE) {
            throw refuse(GrantRefused.Kind.ACCESS_DENIED, "task " + task.id() + " is " + state.wireName()
                    + "; credentials are granted only under an active task", List.of("task " + state.wireName()), request, site);
        }
        if (!task.holder().equals(holder)) {
            throw refuse(GrantRefused.Kind.ACCESS_DENIED, "task " + task.id() + " is held by " + task.holder() + ", not by " + holder,
                    List.of("task holder mismatch"), request, site);
        }
        GrantRequest.Target target = request.target();
        if (!task.allowsResource(target.value())) {
            throw refuse(GrantRefused.Kind.INVALID_TARGET, target.noun() + " " + clip(target.value()) + " is outside task " + task.id()
                    + "; it allows " + task.allowed(), List.of(target.noun() + " outside task"), request, site);
        }
        List<String> outside = request.scopes().stream().filter(s -> !task.allows(s, target.value())).toList();
        if (!outside.isEmpty()) {
            throw refuse(GrantRefused.Kind.INVALID_SCOPE, "scope(s) " + String.join(" ", outside) + " on " + clip(target.value())
                    + " are outside task " + task.id() + "; it allows " + task.allowed(), List.of("scope outside task"), request, site);
        }
        return task;
    }

    private Set<String> scopes(GrantRequest request, Decision.Allow holderAllow, Optional<Decision.Allow> actorAllow, Decision forHolder,
                               AuditSite site) {
        List<String> requested = request.scopes();
        Optional<Set<String>> holderScopes = holderAllow.obligations().allowedScopes();
        Set<String> granted = new LinkedHashSet<>(requested.isEmpty() ? holderScopes.orElse(Set.of()) : requested);
        holderScopes.ifPresent(granted::retainAll);
        Optional<Set<String>> actorScopes = actorAllow.flatMap(a -> a.obligations().allowedScopes());
        if (actorScopes.isPresent()) {
            List<String> widening = requested.stream().filter(s -> !actorScopes.get().contains(s)).toList();
            if (!widening.isEmpty()) {
                throw refuse(GrantRefused.Kind.INVALID_SCOPE, "actor " + request.actor().orElseThrow() + " may not obtain scope(s) "
                        + String.join(" ", widening) + "; an actor can only narrow what the subject is granted",
                        List.of("actor scope widening"), request, site);
            }
            granted.retainAll(actorScopes.get());
        }
        if (!requested.isEmpty() && granted.isEmpty()) {
            throw refuse(GrantRefused.Kind.INVALID_SCOPE, "none of the requested scopes (" + String.join(" ", requested)
                    + ") may be granted to " + request.holder(), forHolder.reasons(), request, site);
        }
        return granted;
    }

    /** Who policy is asked about, with what delegation and attributes; the rest comes from the request. */
    private record PolicyRequestParts(SpiffeId who, List<SpiffeId> delegation, Map<String, Object> attributes) {
    }

    /**
     * The policy's decision; an engine that throws denies (fail closed). The attestation evidence is read
     * first, outside that rule: when the datastore cannot be read, the exception propagates and the front
     * door answers "temporarily unavailable" (nothing granted) instead of refusing a caller policy might allow.
     */
    private Decision decide(PolicyRequestParts parts, GrantRequest request, Instant now) {
        SubjectEvidence.Evidence known = evidence.of(parts.who());
        try {
            Decision decision = policy.decide(new PolicyRequest(parts.who(), known.selectors(), known.trustLevel(), known.attestedAt(),
                    request.action(), request.target().value(), request.scopes(), request.task(), parts.delegation(), now,
                    parts.attributes()));
            if (decision instanceof Decision.Deny deny && deny.reasons().stream().anyMatch(r -> r.contains("min_trust_level"))) {
                // a rule was short only of trust level: say how the subject's level was reached (node and workload)
                List<String> reasons = new java.util.ArrayList<>(deny.reasons());
                reasons.add(known.trustBasis());
                return new Decision.Deny(reasons);
            }
            return decision;
        } catch (RuntimeException e) {
            LOG.error("policy evaluation failed for {}; denying", parts.who(), e);
            return new Decision.Deny(List.of("policy evaluation failed; denied (fail closed)"));
        }
    }

    private Decision.Allow allowOrRefuse(Decision decision, SpiffeId who, GrantRequest request, AuditSite site) {
        return switch (decision) {
            case Decision.Allow allow -> allow;
            case Decision.Deny deny -> {
                String reasons = deny.reasons().isEmpty() ? "no policy allows it" : String.join("; ", deny.reasons());
                throw refuse(GrantRefused.Kind.ACCESS_DENIED, "policy denies " + request.action() + " on " + clip(request.target().value())
                        + " for " + who + ": " + reasons, deny.reasons(), request, site);
            }
        };
    }

    /** Audits a refusal of the verified holder and returns the exception to throw. */
    private GrantRefused refuse(GrantRefused.Kind kind, String message, List<String> reasons, GrantRequest request, AuditSite site) {
        GrantRefused refusal = new GrantRefused(kind, message, reasons);
        Map<String, String> denied = new LinkedHashMap<>();
        site.details().entrySet().stream().limit(AuditEvent.MAX_DETAILS - 3).forEach(e -> denied.put(e.getKey(), e.getValue()));
        denied.put("error", kind.error());
        denied.put("reasons", reasons(reasons));
        denied.put("description", clip(refusal.getMessage()));
        String holder = request.holder().toString();
        try {
            audit.append(AuditEvent.denied(holder, site.action(), holder, denied));
        } catch (RuntimeException e) {
            LOG.error("cannot audit a refused grant for {}: {}", holder, e.getMessage(), e);
        }
        return refusal;
    }

    /** Policy reasons as one audit detail: printable, bounded. */
    public static String reasons(List<String> reasons) {
        return clip(String.join("; ", reasons), MAX_REASONS);
    }
}
