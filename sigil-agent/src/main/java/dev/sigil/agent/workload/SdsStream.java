package dev.sigil.agent.workload;

import com.google.protobuf.Any;
import dev.sigil.agent.workload.StreamPublisher.ChangeSource;
import dev.sigil.agent.workload.StreamPublisher.Fail;
import dev.sigil.agent.workload.StreamPublisher.Send;
import dev.sigil.agent.workload.StreamPublisher.Step;
import dev.sigil.agent.workload.StreamPublisher.Wait;
import dev.sigil.core.Printable;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One StreamSecrets call: the xDS state-of-the-world protocol as SPIRE's agent speaks it.
 *
 * <ul>
 *   <li>Every response carries a new {@code version_info} (a counter) and a fresh random {@code nonce}.</li>
 *   <li>Once a response was sent, a request whose {@code response_nonce} is not the last one sent is stale
 *       and ignored. Otherwise it is an ACK (the last version) or a NACK ({@code error_detail} set, or another
 *       version): a NACK is logged once per version, clipped; neither is answered unless it changes the
 *       requested names. A request without a node keeps the node of the previous ones.</li>
 *   <li>The answer is recomputed for the last request on every change of the sources (new SVIDs, bundles,
 *       the caller's drift); it is sent, with a new version, only when it differs from the last one sent.
 *       So a NACKed state is not sent again until the state changes.</li>
 *   <li>A {@link Fail} ends the call; {@link Wait} (before the agent's first sync) keeps it open unanswered.</li>
 * </ul>
 *
 * Sends are serialized on this object; changes are coalesced as in {@link StreamPublisher}.
 */
final class SdsStream implements StreamObserver<DiscoveryRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(SdsStream.class);
    private static final SecureRandom NONCES = new SecureRandom();

    private final ServerCallStreamObserver<DiscoveryResponse> observer;
    private final Executor executor;
    private final Function<DiscoveryRequest, Step<List<Any>>> state;
    private final Set<SdsStream> open;
    private final Runnable onEnd;
    private final int pid;
    private final AtomicBoolean queued = new AtomicBoolean();
    private List<AutoCloseable> registrations = List.of();
    private boolean closed;
    private DiscoveryRequest request;
    private Node node = Node.getDefaultInstance();
    private long version;
    private String nonce = "";
    private List<Any> sent;
    private long nackLogged = -1;

    private SdsStream(ServerCallStreamObserver<DiscoveryResponse> observer, Executor executor,
                      Function<DiscoveryRequest, Step<List<Any>>> state, Set<SdsStream> open, Runnable onEnd, int pid) {
        this.observer = observer;
        this.executor = executor;
        this.state = state;
        this.open = open;
        this.onEnd = onEnd;
        this.pid = pid;
    }

    /**
     * Starts serving the call; returns the observer for its requests. Must be called from the service method.
     * The stream is in {@code open} until it ends; {@code onEnd} runs once when it does.
     */
    static SdsStream start(ServerCallStreamObserver<DiscoveryResponse> observer, List<ChangeSource> sources, Executor executor,
                           Function<DiscoveryRequest, Step<List<Any>>> state, Set<SdsStream> open, Runnable onEnd, int pid) {
        SdsStream stream = new SdsStream(observer, executor, state, open, onEnd, pid);
        open.add(stream);
        observer.setOnCancelHandler(stream::close);
        List<AutoCloseable> registrations = new ArrayList<>();
        for (ChangeSource source : sources) {
            registrations.add(source.onChange(stream::changed));
        }
        synchronized (stream) {
            stream.registrations = registrations;
            if (stream.closed) {
                stream.unregister();
            }
        }
        return stream;
    }

    @Override
    public synchronized void onNext(DiscoveryRequest next) {
        if (closed) {
            return;
        }
        if (!nonce.isEmpty() && !nonce.equals(next.getResponseNonce())) {
            LOG.debug("ignoring a stale secret discovery request from pid {} (nonce '{}', last sent '{}')",
                    pid, Printable.clip(next.getResponseNonce(), 40), nonce);
            return;
        }
        boolean nack = next.hasErrorDetail() || (!nonce.isEmpty() && !Long.toString(version).equals(next.getVersionInfo()));
        if (nack && nackLogged != version) {
            nackLogged = version;
            LOG.warn("envoy (pid {}) rejected secrets {} of version {}: {}", pid,
                    Printable.clip(next.getResourceNamesList().toString(), 160), version,
                    next.hasErrorDetail() ? Printable.clip(next.getErrorDetail().getMessage(), 200) : "it reports version '"
                            + Printable.clip(next.getVersionInfo(), 40) + "'");
        }
        if (next.hasNode()) {
            node = next.getNode();
        } else {
            next = next.toBuilder().setNode(node).build();
        }
        boolean namesChanged = request == null
                || !Set.copyOf(request.getResourceNamesList()).equals(Set.copyOf(next.getResourceNamesList()));
        request = next;
        if (namesChanged) {
            publish(true);
        }
    }

    @Override
    public void onError(Throwable t) {
        close(); // the client cancelled or went away
    }

    @Override
    public void onCompleted() {
        boolean wasOpen;
        synchronized (this) {
            wasOpen = !closed;
            close();
        }
        if (wasOpen) {
            try {
                observer.onCompleted();
            } catch (RuntimeException e) {
                // already cancelled
            }
        }
    }

    private void changed() {
        if (queued.compareAndSet(false, true)) {
            try {
                executor.execute(() -> {
                    queued.set(false);
                    publish(false);
                });
            } catch (RejectedExecutionException e) {
                queued.set(false);
                close();
            }
        }
    }

    /** Sends the current answer to the last request; unless {@code always}, only when it changed. */
    private synchronized void publish(boolean always) {
        if (closed || request == null) {
            return;
        }
        Step<List<Any>> step;
        try {
            step = state.apply(request);
        } catch (RuntimeException e) {
            LOG.warn("secret discovery stream for pid {} failed: {}", pid, e.toString());
            step = new Fail<>(Status.UNAVAILABLE.withDescription("cannot compute the workload's secrets: " + e.getMessage()));
        }
        try {
            switch (step) {
                case Send<List<Any>> send -> {
                    if (always || !send.message().equals(sent)) {
                        version++;
                        nonce = HexFormat.of().formatHex(randomBytes());
                        observer.onNext(DiscoveryResponse.newBuilder()
                                .setVersionInfo(Long.toString(version))
                                .setNonce(nonce)
                                .setTypeUrl(SdsSecrets.SECRET_TYPE_URL)
                                .addAllResources(send.message())
                                .build());
                        sent = send.message();
                    }
                }
                case Wait<List<Any>> ignored -> { }
                case Fail<List<Any>> fail -> {
                    close();
                    observer.onError(fail.status().asRuntimeException());
                }
            }
        } catch (RuntimeException e) {
            close(); // the call was cancelled between our check and the send
        }
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[8];
        NONCES.nextBytes(bytes);
        return bytes;
    }

    /** Stops serving and unregisters the change listeners; the call itself is ended by its owner. */
    synchronized void close() {
        boolean first = !closed;
        closed = true;
        open.remove(this);
        unregister();
        if (first) {
            onEnd.run();
        }
    }

    private void unregister() {
        for (AutoCloseable registration : registrations) {
            try {
                registration.close();
            } catch (Exception e) {
                LOG.warn("cannot unregister a secret discovery stream listener: {}", e.toString());
            }
        }
        registrations = List.of();
    }
}
