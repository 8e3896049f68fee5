package dev.sigil.server.agent;

import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.proto.agent.v1.AgentGrpc;
import dev.sigil.proto.agent.v1.AttestRequest;
import dev.sigil.proto.agent.v1.AttestResponse;
import dev.sigil.proto.agent.v1.BatchSignX509Request;
import dev.sigil.proto.agent.v1.BatchSignX509Response;
import dev.sigil.proto.agent.v1.DriftAck;
import dev.sigil.proto.agent.v1.DriftReport;
import dev.sigil.proto.agent.v1.MintJwtSvidRequest;
import dev.sigil.proto.agent.v1.MintJwtSvidResponse;
import dev.sigil.proto.agent.v1.MintWitSvidRequest;
import dev.sigil.proto.agent.v1.MintWitSvidResponse;
import dev.sigil.proto.agent.v1.RenewAgentRequest;
import dev.sigil.proto.agent.v1.RenewAgentResponse;
import dev.sigil.proto.agent.v1.SignX509Request;
import dev.sigil.proto.agent.v1.SignX509Result;
import dev.sigil.proto.agent.v1.SyncEntriesRequest;
import dev.sigil.proto.agent.v1.SyncEntriesResponse;
import dev.sigil.server.agent.attestor.NodeAttestor;
import dev.sigil.server.audit.AuditException;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.authority.Authority;
import dev.sigil.server.authority.CsrRejectedException;
import dev.sigil.server.authority.JwtSvid;
import dev.sigil.server.authority.WitSvid;
import dev.sigil.server.authority.X509Svid;
import dev.sigil.server.datastore.DatastoreException;
import dev.sigil.server.registration.EntryChanges;
import dev.sigil.server.registration.EntryStore;
import dev.sigil.server.registration.RegistrationEntry;
import dev.sigil.server.svid.SvidIssuer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent API's RPCs. Every RPC but Attest runs after {@link AgentAuthenticator} admitted the
 * calling agent; each one acts only for that agent and only on entries {@link AuthorizedEntries}
 * authorizes for it. Issued SVIDs are audited by {@link SvidIssuer} with the agent's SPIFFE ID as actor.
 */
final class AgentService extends AgentGrpc.AgentImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(AgentService.class);
    static final int DEFAULT_SYNC_LIMIT = 1000;
    static final int MAX_SYNC_LIMIT = 10_000;
    static final int MAX_BATCH = 500;

    private final Map<String, NodeAttestor> attestors;
    private final AgentStore agents;
    private final EntryStore entries;
    private final AuthorizedEntries authorized;
    private final SvidIssuer issuer;
    private final Authority authority;
    private final AuditTrail audit;
    private final Duration agentSvidTtl;
    private final Clock clock;
    private final java.util.concurrent.ScheduledExecutorService timer;
    private final Duration attestTimeLimit;
    private final DriftReports drifts;
    private final NodeQuotes quotes;
    private final java.util.function.Supplier<Map<dev.sigil.core.spiffeid.TrustDomain, SpiffeBundle>> federated;

    AgentService(Map<String, NodeAttestor> attestors, AgentStore agents, EntryStore entries, SpiffeId serverId, SvidIssuer issuer,
                 Authority authority, AuditTrail audit, Duration agentSvidTtl, Clock clock,
                 java.util.concurrent.ScheduledExecutorService timer, Duration attestTimeLimit, DriftListener driftListener,
                 CredentialHoldings holdings, java.util.function.Supplier<Map<dev.sigil.core.spiffeid.TrustDomain, SpiffeBundle>> federated) {
        this.federated = federated;
        this.timer = timer;
        this.attestTimeLimit = attestTimeLimit;
        this.attestors = Map.copyOf(attestors);
        this.agents = agents;
        this.entries = entries;
        this.authorized = new AuthorizedEntries(entries, serverId);
        this.issuer = issuer;
        this.authority = authority;
        this.audit = audit;
        this.agentSvidTtl = agentSvidTtl;
        this.clock = clock;
        this.drifts = new DriftReports(authorized, audit, driftListener, holdings, clock);
        this.quotes = new NodeQuotes(this.attestors, agents, authorized, audit, driftListener, clock);
    }

    @Override
    public StreamObserver<AttestRequest> attest(StreamObserver<AttestResponse> responses) {
        String actor = "agent-api:" + Optional.ofNullable(AgentAuthenticator.PEER.get()).orElse("unknown");
        return new AttestCall(attestors, agents, issuer, authority, audit, agentSvidTtl, actor, responses, timer, attestTimeLimit);
    }

    @Override
    public void renewAgent(RenewAgentRequest request, StreamObserver<RenewAgentResponse> responses) {
        unary(responses, () -> {
            Agent agent = AgentAuthenticator.AGENT.get();
            X509Svid svid = issueX509(agent.spiffeId(), request.getCsr().toByteArray(), agentSvidTtl, List.of(), agent);
            Agent renewed = agents.recordRenewal(agent.spiffeId(), svid.leaf().getSerialNumber(), svid.expiresAt(), actor(agent))
                    .orElseThrow(() -> fail(Status.PERMISSION_DENIED, "agent " + agent.spiffeId() + " was banned or evicted during renewal"));
            return RenewAgentResponse.newBuilder().setSvid(AgentProtos.agentSvid(renewed, svid, authority.bundle())).build();
        });
    }

    /**
     * Incremental when possible: the entries changed after {@code since_revision} that the agent may
     * serve, and in {@code removed_ids} the deleted ones and the changed ones it may no longer serve.
     * A full state ({@code full_state}: replace the cache) is sent for revision 0 and whenever the
     * changes include a node alias entry or a deletion, because those can change which unchanged
     * entries the agent may serve.
     */
    @Override
    public void syncEntries(SyncEntriesRequest request, StreamObserver<SyncEntriesResponse> responses) {
        unary(responses, () -> {
            Agent agent = AgentAuthenticator.AGENT.get();
            if (request.getSinceRevision() < 0 || request.getLimit() < 0 || request.getLimit() > MAX_SYNC_LIMIT) {
                throw fail(Status.INVALID_ARGUMENT, "since_revision " + request.getSinceRevision() + " and limit " + request.getLimit()
                        + " must be zero or more, limit at most " + MAX_SYNC_LIMIT);
            }
            int limit = request.getLimit() == 0 ? DEFAULT_SYNC_LIMIT : request.getLimit();
            SyncEntriesResponse.Builder response = SyncEntriesResponse.newBuilder();
            SpiffeBundle bundle = authority.bundle();
            if (bundle.sequence() != request.getBundleSequence()) {
                response.setBundle(AgentProtos.bundle(bundle));
            }
            federatedBundles(agent, request.getFederatedBundlesDigest()).ifPresent(response::setFederatedBundles);
            if (request.getSinceRevision() > 0) {
                EntryChanges changes = entries.changesSince(request.getSinceRevision(), limit);
                if (changes.changed().isEmpty() && changes.deletedIds().isEmpty()) {
                    // nothing changed (the common sync): no entry to authorize, so the agent's parents are not read
                    return response.setThroughRevision(changes.throughRevision()).setMore(changes.more()).build();
                }
                boolean aliasing = !changes.deletedIds().isEmpty() || changes.changed().stream().anyMatch(authorized::isNodeAlias);
                if (!aliasing) {
                    Set<SpiffeId> parents = authorized.parentsOf(agent);
                    for (RegistrationEntry entry : changes.changed()) {
                        if (AuthorizedEntries.authorized(entry, parents)) {
                            response.addChanged(AgentProtos.entry(entry));
                        } else {
                            response.addRemovedIds(entry.id());
                        }
                    }
                    return response.setThroughRevision(changes.throughRevision()).setMore(changes.more()).build();
                }
            }
            long through = entries.currentRevision();
            authorized.allFor(authorized.parentsOf(agent)).forEach(entry -> response.addChanged(AgentProtos.entry(entry)));
            return response.setFullState(true).setThroughRevision(through).setMore(false).build();
        });
    }

    /**
     * The federated bundles this agent may hold, when they differ from what it holds ({@code heldDigest}):
     * only those of trust domains that an entry authorized for the agent federates with (least privilege:
     * an agent learns no foreign bundle none of its workloads may trust).
     */
    private Optional<dev.sigil.proto.agent.v1.FederatedBundles> federatedBundles(Agent agent, String heldDigest) {
        Map<dev.sigil.core.spiffeid.TrustDomain, SpiffeBundle> available = federated.get();
        if (available.isEmpty() && heldDigest.isEmpty()) {
            return Optional.empty();
        }
        java.util.TreeMap<String, SpiffeBundle> wanted = new java.util.TreeMap<>();
        if (!available.isEmpty()) {
            for (RegistrationEntry entry : authorized.allFor(authorized.parentsOf(agent))) {
                for (dev.sigil.core.spiffeid.TrustDomain domain : entry.federatesWith()) {
                    SpiffeBundle bundle = available.get(domain);
                    if (bundle != null) {
                        wanted.put(domain.name(), bundle);
                    }
                }
            }
        }
        String digest = AgentProtos.federatedDigest(wanted.values());
        if (digest.equals(heldDigest)) {
            return Optional.empty();
        }
        dev.sigil.proto.agent.v1.FederatedBundles.Builder message = dev.sigil.proto.agent.v1.FederatedBundles.newBuilder().setDigest(digest);
        wanted.values().forEach(bundle -> message.addBundles(AgentProtos.bundle(bundle)));
        return Optional.of(message.build());
    }

    @Override
    public void batchSignX509(BatchSignX509Request request, StreamObserver<BatchSignX509Response> responses) {
        unary(responses, () -> {
            Agent agent = AgentAuthenticator.AGENT.get();
            if (request.getRequestsCount() > MAX_BATCH) {
                throw fail(Status.INVALID_ARGUMENT, "batch has " + request.getRequestsCount() + " requests; at most " + MAX_BATCH);
            }
            Set<SpiffeId> parents = authorized.parentsOf(agent);
            // Authorize every item first, then sign the authorized ones as one audited batch.
            List<SignX509Result.Builder> results = new java.util.ArrayList<>();
            List<SvidIssuer.X509Request> toSign = new java.util.ArrayList<>();
            List<SignX509Result.Builder> signed = new java.util.ArrayList<>();
            for (SignX509Request item : request.getRequestsList()) {
                SignX509Result.Builder result = SignX509Result.newBuilder().setEntryId(item.getEntryId());
                results.add(result);
                try {
                    RegistrationEntry entry = authorizedEntry(item.getEntryId(), parents, agent);
                    toSign.add(new SvidIssuer.X509Request(entry.spiffeId(), item.getCsr().toByteArray(), entry.x509SvidTtl(),
                            entry.dnsNames()));
                    signed.add(result);
                } catch (StatusRuntimeException e) {
                    if (e.getStatus().getCode() == Status.Code.INTERNAL || e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
                        throw e;
                    }
                    result.setError(e.getStatus().getDescription());
                }
            }
            List<SvidIssuer.X509Outcome> outcomes = issuer.issueX509Batch(toSign, actor(agent));
            for (int i = 0; i < outcomes.size(); i++) {
                switch (outcomes.get(i)) {
                    case SvidIssuer.X509Outcome.Issued issued -> signed.get(i).addAllCertChain(AgentProtos.chain(issued.svid()))
                            .setExpiresAtUnixSeconds(issued.svid().expiresAt().getEpochSecond());
                    case SvidIssuer.X509Outcome.Refused refused -> signed.get(i).setError(refused.reason());
                }
            }
            BatchSignX509Response.Builder response = BatchSignX509Response.newBuilder();
            results.forEach(response::addResults);
            return response.build();
        });
    }

    @Override
    public void mintJwtSvid(MintJwtSvidRequest request, StreamObserver<MintJwtSvidResponse> responses) {
        unary(responses, () -> {
            Agent agent = AgentAuthenticator.AGENT.get();
            RegistrationEntry entry = authorizedEntry(request.getEntryId(), authorized.parentsOf(agent), agent);
            Audience audience;
            try {
                audience = new Audience(request.getAudienceList());
            } catch (IllegalArgumentException e) {
                throw fail(Status.INVALID_ARGUMENT, e.getMessage());
            }
            JwtSvid svid = issuer.issueJwt(entry.spiffeId(), audience, entry.jwtSvidTtl(), actor(agent));
            return MintJwtSvidResponse.newBuilder().setToken(svid.token())
                    .setExpiresAtUnixSeconds(svid.expiresAt().getEpochSecond()).build();
        });
    }

    /**
     * A WIT-SVID for an entry authorized for the calling agent, bound to the public key the agent sent (it
     * generated the pair for the workload; the private key never reaches the server). Authorized exactly as
     * MintJwtSvid; a key that is not an acceptable public key is INVALID_ARGUMENT.
     */
    @Override
    public void mintWitSvid(MintWitSvidRequest request,
                            StreamObserver<MintWitSvidResponse> responses) {
        unary(responses, () -> {
            Agent agent = AgentAuthenticator.AGENT.get();
            RegistrationEntry entry = authorizedEntry(request.getEntryId(), authorized.parentsOf(agent), agent);
            WitSvid svid;
            try {
                svid = issuer.issueWit(entry.spiffeId(), request.getPublicKeyJwk(), entry.jwtSvidTtl(), actor(agent));
            } catch (IllegalArgumentException e) {
                throw fail(Status.INVALID_ARGUMENT, e.getMessage());
            }
            return MintWitSvidResponse.newBuilder().setToken(svid.token())
                    .setExpiresAtUnixSeconds(svid.expiresAt().getEpochSecond()).build();
        });
    }

    /** The revocation state of a token of this trust domain, for the agent's ValidateJWTSVID. */
    @Override
    public void tokenStatus(dev.sigil.proto.agent.v1.TokenStatusRequest request,
                            StreamObserver<dev.sigil.proto.agent.v1.TokenStatusResponse> responses) {
        unary(responses, () -> {
            if (request.getUri().isEmpty() || request.getUri().length() > 2048) {
                throw fail(Status.INVALID_ARGUMENT, "uri must be a status list uri of at most 2048 characters");
            }
            Optional<Integer> status = issuer.tokenStatus(request.getUri(), request.getIdx());
            return dev.sigil.proto.agent.v1.TokenStatusResponse.newBuilder()
                    .setKnown(status.isPresent()).setRevoked(status.map(s -> s != 0).orElse(false)).build();
        });
    }

    /** A workload drift observed by the calling agent: audited, then handed to the drift listener. */
    @Override
    public void reportDrift(DriftReport request, StreamObserver<DriftAck> responses) {
        unary(responses, () -> drifts.report(AgentAuthenticator.AGENT.get(), request));
    }

    /** A fresh quote challenge for the calling agent's continuous attestor (tpm). */
    @Override
    public void quoteChallenge(dev.sigil.proto.agent.v1.QuoteChallengeRequest request,
                               StreamObserver<dev.sigil.proto.agent.v1.QuoteChallengeResponse> responses) {
        unary(responses, () -> quotes.challenge(AgentAuthenticator.AGENT.get()));
    }

    /** The calling agent's answer to its quote challenge; node drift is answered PERMISSION_DENIED (see {@link NodeQuotes}). */
    @Override
    public void submitQuote(dev.sigil.proto.agent.v1.SubmitQuoteRequest request,
                            StreamObserver<dev.sigil.proto.agent.v1.SubmitQuoteResponse> responses) {
        unary(responses, () -> quotes.submit(AgentAuthenticator.AGENT.get(), request));
    }

    private RegistrationEntry authorizedEntry(String id, Set<SpiffeId> parents, Agent agent) {
        Optional<RegistrationEntry> found = id.isEmpty() ? Optional.empty() : authorized.find(id);
        if (found.isEmpty() || !AuthorizedEntries.authorized(found.get(), parents)) {
            // One answer for "absent" and "not yours": an agent learns nothing about other agents' entries.
            throw fail(Status.PERMISSION_DENIED, "entry '" + id + "' does not exist or is not authorized for agent " + agent.spiffeId());
        }
        RegistrationEntry entry = found.get();
        if (entry.expiresAt().isPresent() && !clock.instant().isBefore(entry.expiresAt().get())) {
            throw fail(Status.PERMISSION_DENIED, "entry '" + id + "' expired at " + entry.expiresAt().get());
        }
        return entry;
    }

    private X509Svid issueX509(SpiffeId id, byte[] csr, Duration ttl, List<String> dnsNames, Agent agent) {
        try {
            return issuer.issueX509(id, csr, ttl, dnsNames, actor(agent));
        } catch (CsrRejectedException e) {
            throw fail(Status.INVALID_ARGUMENT, e.getMessage());
        }
    }

    private static String actor(Agent agent) {
        return agent.spiffeId().toString();
    }

    private static StatusRuntimeException fail(Status status, String description) {
        return status.withDescription(description).asRuntimeException();
    }

    private static <T> void unary(StreamObserver<T> responses, Supplier<T> work) {
        T result;
        try {
            result = work.get();
        } catch (StatusRuntimeException e) {
            responses.onError(e);
            return;
        } catch (DatastoreException | AuditException e) {
            LOG.error("agent api call failed: {}", e.getMessage(), e);
            responses.onError(fail(Status.UNAVAILABLE, "the server cannot reach its datastore; retry later"));
            return;
        } catch (RuntimeException e) {
            LOG.error("agent api call failed: {}", e.getMessage(), e);
            responses.onError(fail(Status.INTERNAL, "internal error: " + e.getClass().getSimpleName()));
            return;
        }
        responses.onNext(result);
        responses.onCompleted();
    }
}
