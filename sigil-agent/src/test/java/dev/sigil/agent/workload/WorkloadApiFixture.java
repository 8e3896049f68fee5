package dev.sigil.agent.workload;

import dev.sigil.testkit.Eventually;
import dev.sigil.core.selector.Selector;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A Workload API server on a socket in a temp dir, backed by fake identities, plus raw gRPC clients. */
final class WorkloadApiFixture implements AutoCloseable {
    final TestTrustDomain domain = new TestTrustDomain("example.org");
    final FakeWorkloadIdentities identities = new FakeWorkloadIdentities(domain);
    final WorkloadApiServer server;
    private final EventLoopGroup clientGroup = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());

    WorkloadApiFixture(Path dir, List<WorkloadAttestor> attestors, Path procRoot, Clock clock) {
        this(dir, attestors, procRoot, DriftSink.discard(), WorkloadApiConfig.DEFAULT_REATTEST_INTERVAL, clock);
    }

    /** A server reporting drifts to {@code sink}, re-attesting every {@code reattest}. */
    WorkloadApiFixture(Path dir, List<WorkloadAttestor> attestors, Path procRoot, DriftSink sink, java.time.Duration reattest,
                       Clock clock) {
        WorkloadApiConfig config = WorkloadApiConfig.defaults().withSocketPath(dir.resolve("agent/api.sock")).withProcRoot(procRoot)
                .withReattestInterval(reattest);
        server = WorkloadApiServer.create(config, identities, attestors, sink, clock).start();
    }

    /** A server attesting callers from the real /proc with the unix and cgroup attestors. */
    static WorkloadApiFixture real(Path dir) {
        Path proc = Path.of("/proc");
        return new WorkloadApiFixture(dir, List.of(WorkloadAttestor.unix(proc, Path.of("/etc")), WorkloadAttestor.cgroup(proc)),
                proc, Clock.systemUTC());
    }

    /** The selector the test JVM has: its effective uid. */
    static Selector ownUid() {
        try {
            return Selector.of("unix", "uid:" + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The kernel's peer credentials a connection from this JVM carries. */
    static PeerCredentials ownCredentials() {
        try {
            Path self = Path.of("/proc/self");
            return new PeerCredentials((int) ProcessHandle.current().pid(), ((Integer) Files.getAttribute(self, "unix:uid")).longValue(),
                    ((Integer) Files.getAttribute(self, "unix:gid")).longValue());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Returns once the drift monitor has finished a full periodic re-attestation round that started
     * after this call (two rounds completed since it), so a test that then asserts "nothing happened"
     * asserts it of a check that really ran, not of a sleep that may have been too short.
     */
    void awaitFreshReattestationRound() throws Exception {
        long seen = server.driftPasses();
        Eventually.within(java.time.Duration.ofSeconds(30),
                () -> org.assertj.core.api.Assertions.assertThat(server.driftPasses())
                        .as("re-attestation rounds finished").isGreaterThanOrEqualTo(seen + 2));
    }

    String socketUri() {
        return "unix:" + server.socketPath();
    }

    ManagedChannel channel() {
        return NettyChannelBuilder.forAddress(new DomainSocketAddress(server.socketPath().toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(clientGroup)
                .withOption(io.netty.channel.ChannelOption.SO_KEEPALIVE, null)
                .usePlaintext()
                .build();
    }

    /** A stub sending the security header. */
    SpiffeWorkloadAPIGrpc.SpiffeWorkloadAPIBlockingStub stub(ManagedChannel channel) {
        return SpiffeWorkloadAPIGrpc.newBlockingStub(channel).withInterceptors(securityHeader());
    }

    static ClientInterceptor securityHeader() {
        Metadata headers = new Metadata();
        headers.put(SecurityHeaderInterceptor.HEADER, "true");
        return MetadataUtils.newAttachHeadersInterceptor(headers);
    }

    static void shutdown(ManagedChannel channel) throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        server.close();
        clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
