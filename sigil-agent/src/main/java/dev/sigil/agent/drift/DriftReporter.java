package dev.sigil.agent.drift;

import dev.sigil.agent.server.DriftDelivery;
import dev.sigil.agent.workload.DriftSink;
import dev.sigil.agent.workload.WorkloadDrift;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;
import java.util.UUID;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers workload drifts to the server ({@code ReportDrift}) without blocking the drift monitor, and
 * without losing them while the server is briefly unreachable.
 *
 * <p>Drifts wait in a bounded queue ({@code capacity}, not counting the one being sent); one thread
 * sends them in order. A drift gets a
 * report id once, so retries are recognised by the server (same drift id). A failed attempt
 * ({@link DriftDelivery.Failed}) is retried with exponential backoff from {@code initialBackoff} up to
 * {@code maxBackoff}, indefinitely while the agent runs; a refusal ({@link DriftDelivery.Refused}) is
 * logged and dropped. When the queue is full the oldest waiting drift is dropped and logged: the
 * identity was already withdrawn locally, only the server's record of it is lost.
 */
public final class DriftReporter implements DriftSink, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DriftReporter.class);

    /** A drift with the report id all its attempts carry. */
    record Pending(String reportId, WorkloadDrift drift) {}

    private final BiFunction<String, WorkloadDrift, DriftDelivery> sender;
    private final int capacity;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Deque<Pending> queue = new ArrayDeque<>();
    private final Thread thread;
    private Pending inFlight;
    private long dropped;
    private long delivered;
    private boolean closed;

    /**
     * @param sender one delivery attempt: report id and drift to the server's answer
     */
    public DriftReporter(BiFunction<String, WorkloadDrift, DriftDelivery> sender, int capacity, Duration initialBackoff,
                         Duration maxBackoff) {
        this.sender = Objects.requireNonNull(sender, "sender");
        if (capacity < 1) {
            throw new IllegalArgumentException("drift queue capacity is " + capacity + "; it must be at least 1");
        }
        if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("drift report backoff " + initialBackoff + " to " + maxBackoff
                    + " is invalid; both positive, the maximum at least the initial");
        }
        this.capacity = capacity;
        this.initialBackoff = initialBackoff;
        this.maxBackoff = maxBackoff;
        this.thread = new Thread(this::run, "sigil-agent-drift-report");
        thread.setDaemon(true);
        thread.start();
    }

    /** 1,000 waiting drifts, backoff 200 ms to 10 s. */
    public static DriftReporter create(BiFunction<String, WorkloadDrift, DriftDelivery> sender) {
        return new DriftReporter(sender, 1000, Duration.ofMillis(200), Duration.ofSeconds(10));
    }

    @Override
    public synchronized void drifted(WorkloadDrift drift) {
        if (closed) {
            return;
        }
        if (queue.size() >= capacity) {
            Pending oldest = queue.pollFirst();
            dropped++;
            LOG.error("drift report queue full ({}); dropped the report of pid {} ({}) unsent", capacity,
                    oldest.drift().pid(), oldest.drift().spiffeIdsBefore());
        }
        queue.addLast(new Pending(UUID.randomUUID().toString(), drift));
        notifyAll();
    }

    /** Drifts waiting to be delivered (including one being sent or retried). */
    public synchronized int pending() {
        return queue.size() + (inFlight == null ? 0 : 1);
    }

    public synchronized long delivered() {
        return delivered;
    }

    public synchronized long dropped() {
        return dropped;
    }

    private void run() {
        Duration backoff = initialBackoff;
        while (true) {
            Pending next;
            synchronized (this) {
                while (queue.isEmpty() && inFlight == null && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    return;
                }
                if (inFlight == null) {
                    inFlight = queue.pollFirst();
                }
                next = inFlight;
            }
            DriftDelivery result;
            try {
                result = sender.apply(next.reportId(), next.drift());
            } catch (RuntimeException e) {
                result = new DriftDelivery.Failed(e.toString());
            }
            switch (result) {
                case DriftDelivery.Acked acked -> {
                    LOG.info("reported drift of pid {} ({}): {}", next.drift().pid(), next.drift().reason(), acked.driftId());
                    done(next, true);
                    backoff = initialBackoff;
                }
                case DriftDelivery.Refused refused -> {
                    LOG.error("server refused the drift report of pid {}: {}", next.drift().pid(), refused.reason());
                    done(next, false);
                    backoff = initialBackoff;
                }
                case DriftDelivery.Failed failed -> {
                    LOG.warn("cannot report the drift of pid {} yet ({}); retrying in {} ms", next.drift().pid(), failed.reason(),
                            backoff.toMillis());
                    synchronized (this) {
                        try {
                            if (!closed) {
                                wait(backoff.toMillis());
                            }
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    backoff = backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff : backoff.multipliedBy(2);
                }
            }
        }
    }

    private synchronized void done(Pending pending, boolean acked) {
        inFlight = null;
        if (acked) {
            delivered++;
        } else {
            dropped++;
        }
    }

    /** Stops sending; drifts still waiting are logged as undelivered. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            if (!queue.isEmpty()) {
                LOG.warn("agent stopping with {} workload drift reports undelivered", queue.size());
            }
            notifyAll();
        }
        thread.interrupt();
    }
}
