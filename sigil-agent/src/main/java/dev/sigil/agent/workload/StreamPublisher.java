package dev.sigil.agent.workload;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one server stream up to date: sends the full current state when opened and again after every
 * change of the {@link WorkloadIdentities}. A burst of changes is coalesced into one recomputation
 * (at most one is queued while another runs), identical consecutive states are sent once, and sends
 * are serialized. The change listener is unregistered as soon as the stream ends for any reason (client
 * cancel or disconnect, server error, server shutdown), so closed streams leave no listeners behind.
 */
final class StreamPublisher<T> {
    private static final Logger LOG = LoggerFactory.getLogger(StreamPublisher.class);

    /** What a stream should do with the current state. */
    sealed interface Step<T> permits Send, Wait, Fail {}

    record Send<T>(T message) implements Step<T> {}

    /** Nothing to send yet (for example before the agent's first sync); keep the stream open. */
    record Wait<T>() implements Step<T> {}

    /** End the stream with this status. */
    record Fail<T>(Status status) implements Step<T> {}

    /** Something whose changes can alter the stream's answer (the identity cache, the workload's drift record). */
    @FunctionalInterface
    interface ChangeSource {
        AutoCloseable onChange(Runnable listener);
    }

    private final ServerCallStreamObserver<T> observer;
    private final Executor executor;
    private final Supplier<Step<T>> state;
    private final AtomicBoolean queued = new AtomicBoolean();
    private final Set<StreamPublisher<?>> open;
    private final Runnable onEnd;
    private java.util.List<AutoCloseable> registrations = java.util.List.of();
    private boolean closed;
    private T lastSent;

    private StreamPublisher(ServerCallStreamObserver<T> observer, Executor executor, Supplier<Step<T>> state,
                            Set<StreamPublisher<?>> open, Runnable onEnd) {
        this.open = open;
        this.onEnd = onEnd;
        this.observer = observer;
        this.executor = executor;
        this.state = state;
    }

    /**
     * Starts publishing {@code state} to {@code observer}. Must be called from the service method (the
     * cancel handler can only be set there). The publisher is in {@code open} until it is closed; every
     * change of one of {@code sources} recomputes the state; {@code onEnd} runs once when the stream ends.
     */
    static <T> void start(ServerCallStreamObserver<T> observer, java.util.List<ChangeSource> sources, Executor executor,
                          Supplier<Step<T>> state, Set<StreamPublisher<?>> open, Runnable onEnd) {
        StreamPublisher<T> publisher = new StreamPublisher<>(observer, executor, state, open, onEnd);
        open.add(publisher);
        observer.setOnCancelHandler(publisher::close);
        java.util.List<AutoCloseable> registrations = new java.util.ArrayList<>();
        for (ChangeSource source : sources) {
            registrations.add(source.onChange(publisher::changed));
        }
        synchronized (publisher) {
            publisher.registrations = registrations;
            if (publisher.closed) {
                publisher.unregister();
                return;
            }
        }
        publisher.publish();
    }

    private void changed() {
        if (queued.compareAndSet(false, true)) {
            try {
                executor.execute(() -> {
                    queued.set(false);
                    publish();
                });
            } catch (RejectedExecutionException e) {
                queued.set(false);
                close();
            }
        }
    }

    private synchronized void publish() {
        if (closed) {
            return;
        }
        Step<T> step;
        try {
            step = state.get();
        } catch (RuntimeException e) {
            LOG.warn("workload api stream failed: {}", e.toString());
            step = new Fail<>(Status.UNAVAILABLE.withDescription("cannot compute the workload's state: " + e.getMessage()));
        }
        try {
            switch (step) {
                case Send<T> send -> {
                    if (!send.message().equals(lastSent)) {
                        observer.onNext(send.message());
                        lastSent = send.message();
                    }
                }
                case Wait<T> ignored -> { }
                case Fail<T> fail -> {
                    close();
                    observer.onError(fail.status().asRuntimeException());
                }
            }
        } catch (RuntimeException e) {
            // the call was cancelled between our check and the send
            close();
        }
    }

    /** Stops publishing and unregisters the change listener; the stream itself is ended by its owner. */
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
                LOG.warn("cannot unregister a workload api stream listener: {}", e.toString());
            }
        }
        registrations = java.util.List.of();
    }
}
