package dev.sigil.agent.workload;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's SPIFFE Workload API endpoint: gRPC over a Unix domain socket (Netty epoll), plus the
 * standard gRPC health service on the same socket.
 *
 * <p>The socket is world-connectable (mode 0777): any local process may ask, and what it receives is
 * decided solely by its attested identity: uid and gid from the kernel's peer credentials for the
 * connection, the rest from the process's /proc state, which must still show the process that connected
 * (same start time and executable, every id equal to the peer credentials); never from request data. A stale socket file left by a previous run is
 * removed at start; any other kind of file at the path is refused. Every Workload API call must carry
 * the {@code workload.spiffe.io: true} header (the health service does not need it). Envoy's Secret
 * Discovery Service ({@code envoy.service.secret.v3}) is served on the same socket to callers attested
 * the same way, without that header (docs/envoy.md).
 *
 * <pre>{@code
 * try (WorkloadApiServer server = WorkloadApiServer.create(WorkloadApiConfig.defaults(), identities,
 *         List.of(WorkloadAttestor.unix(Path.of("/proc"), Path.of("/etc")), WorkloadAttestor.cgroup(Path.of("/proc"))),
 *         Clock.systemUTC())) {
 *     server.start();
 *     ...
 * }
 * }</pre>
 */
public final class WorkloadApiServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WorkloadApiServer.class);
    static final String SERVICE_NAME = "SpiffeWorkloadAPI";

    private final WorkloadApiConfig config;
    private final WorkloadIdentities identities;
    private final ProcFs proc;
    private final CallerAttestor attestor;
    private final DriftSink driftSink;
    private final Clock clock;
    private final HealthStatusManager health = new HealthStatusManager();
    private volatile List<io.grpc.ServerInterceptor> observers = List.of();
    private EventLoopGroup boss;
    private EventLoopGroup workers;
    private ExecutorService executor;
    private Server server;
    private WorkloadApiService service;
    private SdsService sds;
    private DriftMonitor monitor;
    private boolean bound;

    private WorkloadApiServer(WorkloadApiConfig config, WorkloadIdentities identities, List<WorkloadAttestor> attestors,
                              DriftSink driftSink, Clock clock) {
        this.config = Objects.requireNonNull(config, "config");
        this.driftSink = Objects.requireNonNull(driftSink, "driftSink");
        this.identities = Objects.requireNonNull(identities, "identities");
        this.proc = new ProcFs(config.procRoot());
        this.attestor = new CallerAttestor(proc, attestors);
        this.clock = Objects.requireNonNull(clock, "clock");
        if (attestors.isEmpty()) {
            throw new IllegalArgumentException("workload api needs at least one workload attestor");
        }
    }

    /** A server that is not listening yet, discarding drift reports; call {@link #start()}. */
    public static WorkloadApiServer create(WorkloadApiConfig config, WorkloadIdentities identities,
                                           List<WorkloadAttestor> attestors, Clock clock) {
        return new WorkloadApiServer(config, identities, attestors, DriftSink.discard(), clock);
    }

    /**
     * A server that is not listening yet; call {@link #start()}. Served workloads are re-attested every
     * {@link WorkloadApiConfig#reattestInterval()} (and on change notifications); drifts are withdrawn at
     * once and handed to {@code driftSink}.
     */
    public static WorkloadApiServer create(WorkloadApiConfig config, WorkloadIdentities identities,
                                           List<WorkloadAttestor> attestors, DriftSink driftSink, Clock clock) {
        return new WorkloadApiServer(config, identities, attestors, driftSink, clock);
    }

    /** Runs {@code interceptors} (metrics) around every Workload API call, outermost; call before {@link #start()}. */
    public WorkloadApiServer observedBy(List<io.grpc.ServerInterceptor> interceptors) {
        this.observers = List.copyOf(interceptors);
        return this;
    }

    /** Binds the socket and starts serving. */
    public synchronized WorkloadApiServer start() {
        if (server != null) {
            throw new IllegalStateException("workload api server on " + config.socketPath() + " was already started");
        }
        if (!Epoll.isAvailable()) {
            throw new IllegalStateException("workload api needs netty epoll (linux x86_64): " + Epoll.unavailabilityCause());
        }
        Path socket = config.socketPath();
        prepareSocketPath(socket);
        boss = new MultiThreadIoEventLoopGroup(1, daemonThreads("sigil-workload-api-accept"), EpollIoHandler.newFactory());
        workers = new MultiThreadIoEventLoopGroup(2, daemonThreads("sigil-workload-api-io"), EpollIoHandler.newFactory());
        executor = Executors.newFixedThreadPool(config.handlerThreads(), daemonThreads("sigil-workload-api"));
        monitor = new DriftMonitor(attestor, proc, driftSink, config.reattestInterval(), clock);
        service = new WorkloadApiService(identities, attestor, monitor, clock, executor);
        sds = new SdsService(identities, attestor, monitor, executor);
        server = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()), PeerCredentialsNegotiator.credentials(proc))
                .channelType(EpollServerDomainSocketChannel.class)
                // gRPC asks for TCP keep-alive by default; a Unix socket has none (a null value drops the option)
                .withChildOption(ChannelOption.SO_KEEPALIVE, null)
                .bossEventLoopGroup(boss)
                .workerEventLoopGroup(workers)
                .executor(executor)
                // a request that does not parse is the client's mistake: INVALID_ARGUMENT and one log line
                .addService(ServerInterceptors.intercept(
                        ServerInterceptors.intercept(MalformedRequests.rejected(service.bindService()), new SecurityHeaderInterceptor()), observers))
                // Envoy SDS: the same caller attestation, without the header Envoy does not send (as SPIRE)
                .addService(ServerInterceptors.intercept(MalformedRequests.rejected(sds.bindService()), SecurityHeaderInterceptor.peerOnly()))
                .addService(MalformedRequests.rejected(health.getHealthService().bindService()))
                // every local process may connect: bound what one connection can make the agent hold
                .maxInboundMessageSize(64 * 1024)
                .maxInboundMetadataSize(8 * 1024)
                .maxConcurrentCallsPerConnection(64)
                .build();
        try {
            server.start();
            bound = true;
            // world-connectable: callers are told apart by peer credentials, not by file permissions
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwxrwxrwx"));
        } catch (IOException e) {
            close();
            throw new UncheckedIOException("cannot listen on workload api socket " + socket + ": " + e.getMessage(), e);
        }
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus(SERVICE_NAME, ServingStatus.SERVING);
        health.setStatus(io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
        LOG.info("workload api listening on {}", socket);
        return this;
    }

    public Path socketPath() {
        return config.socketPath();
    }

    /**
     * Starts re-attesting process {@code pid} although it has not called the Workload API, until it
     * exits (for benchmarks of the drift monitor, and embedders that learn of workloads out of band).
     * It is served nothing by this, so its drift is withdrawn from nothing and reported only if it
     * later receives an identity. Its uid and gid are taken from its /proc status, which must show one
     * uid and one gid (real, effective, saved and filesystem ids equal). Returns false when the process
     * cannot be attested.
     */
    public boolean watchProcess(int pid) {
        if (monitor == null) {
            throw new IllegalStateException("workload api server on " + config.socketPath() + " is not started");
        }
        Optional<PeerProcess> peer = attestor.observe(pid);
        if (peer.isEmpty()) {
            return false;
        }
        CallerAttestor.Attestation attestation;
        try {
            attestation = attestor.attest(peer.get());
        } catch (RuntimeException e) {
            return false;
        }
        if (attestation instanceof CallerAttestor.Attested attested) {
            monitor.track(attested.caller()); // pinned until the process exits
            return true;
        }
        return false;
    }

    /** How many periodic re-attestation passes the drift monitor has completed (tests wait on it). */
    long driftPasses() {
        return monitor == null ? 0 : monitor.passes();
    }

    /** How many workload processes the drift monitor currently re-attests. */
    public int monitoredWorkloads() {
        return monitor == null ? 0 : monitor.trackedCount();
    }

    /**
     * Stops accepting calls, ends open streams, releases the socket and threads. Idempotent. Runs to the end
     * even on an interrupted thread (the agent stops its Workload API from its own watcher, which it has just
     * interrupted): an interrupt must not skip waiting for the transports, or an open stream could be left
     * without its final status. The interrupt is restored on return.
     */
    @Override
    public synchronized void close() {
        boolean interrupted = Thread.interrupted();
        try {
            interrupted |= closeInOrder();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Returns whether the wait for the transports was interrupted. */
    private boolean closeInOrder() {
        boolean interrupted = false;
        health.enterTerminalState();
        if (server != null) {
            server.shutdownNow();
            try {
                server.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                interrupted = true; // go on closing; close() restores the flag
            }
        }
        if (service != null) {
            // cancel handlers may not have run before the executor stops; no listener may outlive the server
            service.closeStreams();
        }
        if (sds != null) {
            sds.closeStreams();
        }
        if (monitor != null) {
            monitor.close();
        }
        if (executor != null) {
            executor.shutdownNow();
        }
        if (boss != null) {
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (workers != null) {
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (!bound) {
            return interrupted;
        }
        try {
            // only the socket this server bound, never a file that made start() refuse
            Files.deleteIfExists(config.socketPath());
            bound = false;
        } catch (IOException e) {
            LOG.warn("cannot remove workload api socket {}: {}", config.socketPath(), e.toString());
        }
        return interrupted;
    }

    private static void prepareSocketPath(Path socket) {
        try {
            Path parent = socket.getParent();
            if (!Files.isDirectory(parent)) {
                Files.createDirectories(parent);
                // workloads of every user must be able to reach the socket inside
                Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                if (!isSocket(socket)) {
                    throw new IllegalStateException("workload api socket path " + socket
                            + " exists and is not a socket; remove it or choose another path");
                }
                Files.delete(socket);
                LOG.info("removed stale workload api socket {}", socket);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare workload api socket path " + socket + ": " + e.getMessage(), e);
        }
    }

    private static boolean isSocket(Path path) throws IOException {
        Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return mode instanceof Integer bits && (bits & 0170000) == 0140000;
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger counter = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
