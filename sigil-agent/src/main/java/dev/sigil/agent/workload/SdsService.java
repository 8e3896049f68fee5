package dev.sigil.agent.workload;

import com.google.protobuf.Any;
import dev.sigil.agent.workload.SdsSecrets.Refused;
import dev.sigil.agent.workload.SdsSecrets.Resolved;
import dev.sigil.agent.workload.StreamPublisher.Fail;
import dev.sigil.agent.workload.StreamPublisher.Send;
import dev.sigil.agent.workload.StreamPublisher.Step;
import dev.sigil.agent.workload.StreamPublisher.Wait;
import dev.sigil.agent.workload.WorkloadIdentities.X509Identity;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Envoy's Secret Discovery Service ({@code envoy.service.secret.v3.SecretDiscoveryService}) on the agent's
 * Workload API socket, serving the caller's X.509-SVIDs and trust bundles as {@link SdsSecrets} names them.
 *
 * <p>The caller is attested exactly as a Workload API caller ({@link CallerGate}: the connection's process,
 * attested at the start of the call, re-checked before every response, tracked by the drift monitor), but
 * without the {@code workload.spiffe.io} header, which Envoy does not send (SPIRE does not ask it of SDS).
 *
 * <p>Bundles are public: a caller with no identity that asks only for bundles gets them.
 *
 * <p>Status codes: PERMISSION_DENIED when the caller asks for an SVID (or for everything) but has no identity
 * and the agent has synced, or when its
 * process exited or is no longer what connected; INVALID_ARGUMENT for names it is not entitled to (the whole
 * request fails, as in SPIRE) and a wrong type URL; UNAVAILABLE (retryable) for FetchSecrets before the
 * agent's first sync and when the caller's /proc state cannot be read. StreamSecrets opened before the
 * first sync stays open without answering until the agent has synced. DeltaSecrets is UNIMPLEMENTED.
 */
final class SdsService extends SecretDiscoveryServiceGrpc.SecretDiscoveryServiceImplBase {
    private final WorkloadIdentities identities;
    private final CallerGate gate;
    private final DriftMonitor monitor;
    private final Executor executor;
    private final Set<SdsStream> openStreams = ConcurrentHashMap.newKeySet();

    SdsService(WorkloadIdentities identities, CallerAttestor attestor, DriftMonitor monitor, Executor executor) {
        this.identities = identities;
        this.gate = new CallerGate(attestor);
        this.monitor = monitor;
        this.executor = executor;
    }

    @Override
    public StreamObserver<DiscoveryRequest> streamSecrets(StreamObserver<DiscoveryResponse> observer) {
        TrackedWorkload workload;
        try {
            workload = gate.attestTracked(monitor);
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return ignored();
        }
        return SdsStream.start((ServerCallStreamObserver<DiscoveryResponse>) observer,
                List.of(identities::onChange, workload::onChange), executor, request -> {
                    Optional<Status> refusal = gate.recheck(workload);
                    if (refusal.isPresent()) {
                        return new Fail<>(refusal.get());
                    }
                    return switch (secrets(workload, request)) {
                        case Send<Resolved> send -> {
                            workload.served(send.message().served());
                            yield new Send<>(send.message().resources());
                        }
                        case Wait<Resolved> wait -> new Wait<>();
                        case Fail<Resolved> fail -> new Fail<>(fail.status());
                    };
                }, openStreams, () -> {
                    monitor.release(workload);
                    monitor.checkExitSoon(workload); // a stream that ends may mean the process exited
                }, workload.current().pid());
    }

    @Override
    public void fetchSecrets(DiscoveryRequest request, StreamObserver<DiscoveryResponse> observer) {
        try {
            TrackedWorkload workload = gate.attestTracked(monitor);
            AttestedCaller caller = workload.current();
            try {
                Resolved resolved = switch (secrets(workload, request)) {
                    case Send<Resolved> send -> send.message();
                    case Wait<Resolved> wait -> throw Status.UNAVAILABLE
                            .withDescription("agent has not synced with the server yet; retry").asRuntimeException();
                    case Fail<Resolved> fail -> throw fail.status().asRuntimeException();
                };
                gate.requireSameProcess(caller);
                if (workload.ended() || !workload.current().selectors().equals(caller.selectors())) {
                    throw CallerGate.noIdentity(caller).asRuntimeException(); // drifted while the answer was built
                }
                workload.served(resolved.served());
                // as SPIRE: no version and no nonce outside a stream
                observer.onNext(DiscoveryResponse.newBuilder().setTypeUrl(SdsSecrets.SECRET_TYPE_URL)
                        .addAllResources(resolved.resources()).build());
                observer.onCompleted();
            } finally {
                monitor.release(workload);
            }
        } catch (StatusRuntimeException e) {
            observer.onError(e);
        }
    }

    @Override
    public StreamObserver<DeltaDiscoveryRequest> deltaSecrets(StreamObserver<DeltaDiscoveryResponse> observer) {
        observer.onError(Status.UNIMPLEMENTED.withDescription("incremental (delta) secret discovery is not implemented;"
                + " use StreamSecrets (state of the world), as envoy does by default").asRuntimeException());
        return ignored();
    }

    /** The caller's secrets for {@code request}; the caller records what it serves. */
    private Step<Resolved> secrets(TrackedWorkload workload, DiscoveryRequest request) {
        AttestedCaller caller = workload.current();
        List<X509Identity> svids = identities.x509Svids(caller.selectors());
        if (svids.isEmpty() && !SdsSecrets.onlyBundles(request)) {
            return identities.synced() ? new Fail<>(CallerGate.noIdentity(caller)) : new Wait<>();
        }
        return switch (SdsSecrets.resolve(request, svids, identities.bundles())) {
            case Refused refused -> new Fail<>(refused.status());
            case Resolved resolved -> new Send<>(resolved);
        };
    }

    /** Unregisters every open stream's change listeners; for server shutdown, after the calls were cancelled. */
    void closeStreams() {
        for (SdsStream stream : List.copyOf(openStreams)) {
            stream.close();
        }
    }

    private static <T> StreamObserver<T> ignored() {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {}

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        };
    }
}
