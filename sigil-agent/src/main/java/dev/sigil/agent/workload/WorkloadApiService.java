package dev.sigil.agent.workload;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import dev.sigil.agent.workload.StreamPublisher.Fail;
import dev.sigil.agent.workload.StreamPublisher.Send;
import dev.sigil.agent.workload.StreamPublisher.Step;
import dev.sigil.agent.workload.StreamPublisher.Wait;
import dev.sigil.agent.workload.WorkloadIdentities.JwtIdentity;
import dev.sigil.agent.workload.WorkloadIdentities.X509Identity;
import dev.sigil.core.SigilException;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.proto.workload.JWTBundlesRequest;
import dev.sigil.proto.workload.JWTBundlesResponse;
import dev.sigil.proto.workload.JWTSVID;
import dev.sigil.proto.workload.JWTSVIDRequest;
import dev.sigil.proto.workload.JWTSVIDResponse;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import dev.sigil.proto.workload.ValidateJWTSVIDRequest;
import dev.sigil.proto.workload.ValidateJWTSVIDResponse;
import dev.sigil.proto.workload.WITBundlesRequest;
import dev.sigil.proto.workload.WITBundlesResponse;
import dev.sigil.proto.workload.WITSVIDRequest;
import dev.sigil.proto.workload.WITSVIDResponse;
import dev.sigil.proto.workload.X509BundlesRequest;
import dev.sigil.proto.workload.X509BundlesResponse;
import dev.sigil.proto.workload.X509SVIDRequest;
import dev.sigil.proto.workload.X509SVIDResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * The SPIFFE Workload API over a {@link WorkloadIdentities}. Every call's caller is the process that
 * opened the connection ({@link SecurityHeaderInterceptor#PEER}: kernel peer credentials, start time and
 * executable at accept), checked on every call and attested unless the drift monitor holds its current
 * attestation ({@link CallerGate#attestTracked}); before every response, stream pushes included,
 * {@link CallerAttestor#check} confirms that the pid still names that process, unchanged.
 *
 * <p>Status codes: INVALID_ARGUMENT for bad requests (missing audience or token, invalid token);
 * PERMISSION_DENIED when the caller has no identity and the agent has synced (final for clients), or
 * when the caller's process exited, its pid was reused, or it is no longer what connected (its ids
 * differ from the peer credentials, it runs another executable, or it cannot be inspected);
 * UNAVAILABLE (retryable) for FetchJWTSVID before the agent's first sync and when an attestor cannot
 * read the caller's /proc state. FetchX509SVID opened before the first sync stays open without sending
 * until the agent has synced.
 */
final class WorkloadApiService extends SpiffeWorkloadAPIGrpc.SpiffeWorkloadAPIImplBase {
    private final WorkloadIdentities identities;
    private final CallerGate gate;
    private final JwtSvidValidator validator;
    private final Executor executor;
    private final DriftMonitor monitor;
    private final Set<StreamPublisher<?>> openStreams = ConcurrentHashMap.newKeySet();
    private volatile X509Answer lastX509;

    WorkloadApiService(WorkloadIdentities identities, CallerAttestor attestor, DriftMonitor monitor, Clock clock, Executor executor) {
        this.identities = identities;
        this.gate = new CallerGate(attestor);
        this.monitor = monitor;
        this.validator = new JwtSvidValidator(clock);
        this.executor = executor;
    }

    @Override
    public void fetchX509SVID(X509SVIDRequest request, StreamObserver<X509SVIDResponse> observer) {
        stream(observer, workload -> {
            AttestedCaller caller = workload.current();
            List<X509Identity> svids = identities.x509Svids(caller.selectors());
            if (svids.isEmpty()) {
                return identities.synced() ? new Fail<>(noIdentity(caller)) : new Wait<>();
            }
            workload.served(svids.stream().map(X509Identity::spiffeId).toList());
            return new Send<>(x509Response(svids));
        });
    }

    /**
     * The response for {@code svids} with the current bundles. The last one built is kept and handed to
     * every stream that needs exactly the same answer (the same identity objects of the cache's snapshot
     * and the same bundles), so that a rotation pushed to many streams of one workload builds, and holds,
     * one message rather than one per stream. It is only ever sent to a caller whose own selectors
     * produced those identities.
     */
    private X509SVIDResponse x509Response(List<X509Identity> svids) {
        WorkloadIdentities.Bundles bundles = identities.bundles();
        X509Answer last = lastX509;
        if (last != null && last.answers(svids, bundles)) {
            return last.response();
        }
        X509SVIDResponse response = Responses.x509Svids(svids, bundles);
        lastX509 = new X509Answer(svids, bundles, response);
        return response;
    }

    /** One built X.509-SVID response and what it was built from. */
    private record X509Answer(List<X509Identity> svids, WorkloadIdentities.Bundles bundles, X509SVIDResponse response) {
        boolean answers(List<X509Identity> otherSvids, WorkloadIdentities.Bundles otherBundles) {
            if (otherSvids.size() != svids.size() || otherBundles.own() != bundles.own()
                    || !otherBundles.federated().equals(bundles.federated())) {
                return false;
            }
            for (int i = 0; i < svids.size(); i++) {
                if (otherSvids.get(i) != svids.get(i)) { // the very same snapshot object, key included
                    return false;
                }
            }
            return true;
        }
    }

    @Override
    public void fetchX509Bundles(X509BundlesRequest request, StreamObserver<X509BundlesResponse> observer) {
        stream(observer, workload -> new Send<>(Responses.x509Bundles(callersBundles(workload))));
    }

    @Override
    public void fetchJWTBundles(JWTBundlesRequest request, StreamObserver<JWTBundlesResponse> observer) {
        stream(observer, workload -> new Send<>(Responses.jwtBundles(callersBundles(workload))));
    }

    /**
     * This trust domain's bundle and, of the federated ones the agent holds, only those of trust domains the
     * caller's own identities federate with (as FetchX509SVID and SDS {@code ALL} answer): a workload learns
     * no other trust domain's roots, as SPIRE's agent does.
     */
    private WorkloadIdentities.Bundles callersBundles(TrackedWorkload workload) {
        WorkloadIdentities.Bundles all = identities.bundles();
        if (all.federated().isEmpty()) {
            return all;
        }
        java.util.Set<dev.sigil.core.spiffeid.TrustDomain> wanted = new java.util.HashSet<>();
        identities.x509Svids(workload.current().selectors()).forEach(identity -> wanted.addAll(identity.federatesWith()));
        java.util.Map<dev.sigil.core.spiffeid.TrustDomain, dev.sigil.core.bundle.SpiffeBundle> federated = new java.util.HashMap<>(all.federated());
        federated.keySet().retainAll(wanted);
        return new WorkloadIdentities.Bundles(all.own(), federated);
    }

    /**
     * WIT-SVIDs of the caller's identities (only {@code spiffe_id}'s when given), each with the private key its
     * {@code cnf.jwk} names; pushed again when they are replaced at half their lifetime, when the caller's
     * identities change, and ended with PERMISSION_DENIED when it has none (or none with the requested ID).
     */
    @Override
    public void fetchWITSVID(WITSVIDRequest request,
                             StreamObserver<WITSVIDResponse> observer) {
        Optional<SpiffeId> wanted = Optional.empty();
        if (!request.getSpiffeId().isEmpty()) {
            try {
                wanted = Optional.of(SpiffeId.parse(request.getSpiffeId()));
            } catch (SigilException e) {
                observer.onError(invalid("spiffe_id '" + dev.sigil.core.Printable.clip(request.getSpiffeId(), 80)
                        + "' is not a spiffe id: " + e.getMessage()));
                return;
            }
        }
        Optional<SpiffeId> only = wanted;
        stream(observer, workload -> {
            AttestedCaller caller = workload.current();
            List<WorkloadIdentities.WitIdentity> svids;
            try {
                svids = identities.witSvids(caller.selectors(), only);
            } catch (SigilException e) {
                return new Fail<>(Status.UNAVAILABLE.withDescription("the agent could not obtain a wit-svid from the server: "
                        + e.getMessage() + "; retry"));
            }
            if (svids.isEmpty()) {
                return identities.synced() ? new Fail<>(noIdentity(caller)) : new Wait<>();
            }
            workload.served(svids.stream().map(WorkloadIdentities.WitIdentity::spiffeId).toList());
            return new Send<>(Responses.witSvids(svids));
        });
    }

    /** The WIT bundles (JWKS of {@code wit-svid} keys): this trust domain's and those the caller's identities federate with. */
    @Override
    public void fetchWITBundles(WITBundlesRequest request,
                                StreamObserver<WITBundlesResponse> observer) {
        stream(observer, workload -> new Send<>(Responses.witBundles(callersBundles(workload))));
    }

    @Override
    public void fetchJWTSVID(JWTSVIDRequest request, StreamObserver<JWTSVIDResponse> observer) {
        try {
            if (request.getAudienceCount() == 0 || request.getAudienceList().stream().anyMatch(String::isEmpty)) {
                throw invalid("audience is " + dev.sigil.core.Printable.clip(request.getAudienceList().toString())
                        + "; at least one non-empty audience is required");
            }
            // the server's bounds (16 values of at most 512 printable characters), checked before calling it
            if (request.getAudienceCount() > 16) {
                throw invalid("audience has " + request.getAudienceCount() + " values; at most 16 are allowed");
            }
            for (String value : request.getAudienceList()) {
                if (value.length() > 512 || value.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
                    throw invalid("audience value '" + dev.sigil.core.Printable.clip(value, 40) + "' is longer than 512 characters"
                            + " or contains a space or control character");
                }
            }
            Optional<SpiffeId> wanted = Optional.empty();
            if (!request.getSpiffeId().isEmpty()) {
                try {
                    wanted = Optional.of(SpiffeId.parse(request.getSpiffeId()));
                } catch (SigilException e) {
                    throw invalid("spiffe_id '" + request.getSpiffeId() + "' is not a spiffe id: " + e.getMessage());
                }
            }
            TrackedWorkload workload = gate.attestTracked(monitor);
            AttestedCaller caller = workload.current();
            try {
                fetchJwtSvids(caller, workload, request, wanted, observer);
            } finally {
                monitor.release(workload);
            }
        } catch (StatusRuntimeException e) {
            observer.onError(e);
        }
    }

    /** Answers FetchJWTSVID for an attested caller; failures are thrown as status exceptions. */
    private void fetchJwtSvids(AttestedCaller caller, TrackedWorkload workload, JWTSVIDRequest request, Optional<SpiffeId> wanted,
                               StreamObserver<JWTSVIDResponse> observer) {
        List<JwtIdentity> svids;
        try {
            svids = identities.jwtSvids(caller.selectors(), request.getAudienceList(), wanted);
        } catch (SigilException e) {
            // The server could not mint right now: retryable, never PermissionDenied (which clients treat as final).
            throw Status.UNAVAILABLE.withDescription("the agent could not obtain a jwt-svid from the server: "
                    + e.getMessage() + "; retry").asRuntimeException();
        }
        if (svids.isEmpty()) {
            throw identities.synced()
                    ? noIdentity(caller).asRuntimeException()
                    : Status.UNAVAILABLE.withDescription("agent has not synced with the server yet; retry").asRuntimeException();
        }
        requireSameProcess(caller);
        if (workload.ended() || !workload.current().selectors().equals(caller.selectors())) {
            // drifted while the tokens were minted: they are for the old selectors
            throw noIdentity(caller).asRuntimeException();
        }
        workload.served(svids.stream().map(JwtIdentity::spiffeId).toList());
        JWTSVIDResponse.Builder response = JWTSVIDResponse.newBuilder();
        for (JwtIdentity svid : svids) {
            response.addSvids(JWTSVID.newBuilder().setSpiffeId(svid.spiffeId().toString()).setSvid(svid.token()).setHint(svid.hint()));
        }
        observer.onNext(response.build());
        observer.onCompleted();
    }

    @Override
    public void validateJWTSVID(ValidateJWTSVIDRequest request, StreamObserver<ValidateJWTSVIDResponse> observer) {
        try {
            if (request.getAudience().isEmpty()) {
                throw invalid("audience is empty; the audience the token must be valid for is required");
            }
            if (request.getSvid().isEmpty()) {
                throw invalid("svid is empty; the jwt-svid to validate is required");
            }
            AttestedCaller caller = attest();
            JwtSvidValidator.Result result = validator.validate(request.getSvid(), request.getAudience(), identities.bundles(), identities::tokenState);
            ValidateJWTSVIDResponse response = switch (result) {
                case JwtSvidValidator.Invalid invalid -> throw invalid(invalid.reason());
                case JwtSvidValidator.Valid valid -> ValidateJWTSVIDResponse.newBuilder()
                        .setSpiffeId(valid.spiffeId().toString())
                        .setClaims(struct(valid.claimsJson()))
                        .build();
            };
            requireSameProcess(caller);
            observer.onNext(response);
            observer.onCompleted();
        } catch (StatusRuntimeException e) {
            observer.onError(e);
        }
    }

    /**
     * Publishes {@code state} of the caller's tracked workload: recomputed on every identity change and
     * on every drift the monitor applies to the workload (so a drifted workload's stream carries its new
     * identities, or ends with PERMISSION_DENIED, at once). When the stream ends the workload is
     * re-attested at once, which is how an exiting streaming workload is noticed.
     */
    private <T> void stream(StreamObserver<T> observer, Function<TrackedWorkload, Step<T>> state) {
        TrackedWorkload workload;
        try {
            workload = gate.attestTracked(monitor);
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        StreamPublisher.start((ServerCallStreamObserver<T>) observer, List.of(identities::onChange, workload::onChange), executor, () -> {
            Optional<Status> refusal = gate.recheck(workload);
            if (refusal.isPresent()) {
                return new Fail<>(refusal.get());
            }
            return state.apply(workload);
        }, openStreams, () -> {
            monitor.release(workload);
            monitor.checkExitSoon(workload); // a stream that ends may mean the process exited
        });
    }

    /** Unregisters every open stream's change listener; for server shutdown, after the calls were cancelled. */
    void closeStreams() {
        for (StreamPublisher<?> publisher : List.copyOf(openStreams)) {
            publisher.close();
        }
    }

    private AttestedCaller attest() {
        return gate.attest();
    }

    private void requireSameProcess(AttestedCaller caller) {
        gate.requireSameProcess(caller);
    }

    private static Status noIdentity(AttestedCaller caller) {
        return CallerGate.noIdentity(caller);
    }

    private static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }

    private static Struct struct(String json) {
        Struct.Builder builder = Struct.newBuilder();
        try {
            JsonFormat.parser().merge(json, builder);
        } catch (InvalidProtocolBufferException e) {
            throw invalid("token claims are not a json object: " + e.getMessage());
        }
        return builder.build();
    }
}
