package dev.sigil.agent.workload;

import dev.sigil.testkit.Eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.sigil.agent.workload.FakeWorkloadIdentities.Entry;
import dev.sigil.core.selector.Selector;
import dev.sigil.proto.workload.JWTSVIDRequest;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import dev.sigil.proto.workload.X509SVIDRequest;
import dev.sigil.proto.workload.X509SVIDResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Workload API exec race, played with real processes against a real agent socket and the real
 * {@code /proc}: an unprivileged process (uid 65534) connects, forks, and its child relays the inherited
 * connection to this test's gRPC client, while the process the kernel named as the peer execs a setuid-root
 * copy of {@code sleep} (same pid, same start time, effective uid 0, another executable). Entries exist for
 * both uid 65534 and uid 0, so an agent that attests the pid's current state hands out root's identity.
 * Needs root (to make the setuid binary and drop to uid 65534), {@code setpriv} and {@code python3}.
 */
class ExecRaceTest {
    private static final int NOBODY = 65534;
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    @TempDir
    Path dir;

    private WorkloadApiFixture fixture;
    private Process attacker;
    private Path relaySocket;
    private Path setuidSleep;
    private EventLoopGroup clientGroup;
    private ManagedChannel channel;
    private final LinkedBlockingQueue<WorkloadDrift> drifts = new LinkedBlockingQueue<>();

    @BeforeEach
    void start() throws Exception {
        boolean root = Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        boolean tools = Files.isExecutable(PYTHON) && Files.isExecutable(SETPRIV);
        if (System.getenv("CI") != null) {
            // CI runs as root and .ci/run installs python3 and util-linux: a skip there would hide the attack
            assertThat(root && tools).as("under CI the exec race test needs root, python3 and setpriv").isTrue();
        }
        assumeThat(root).as("runs as root").isTrue();
        assumeThat(tools).as("python3 and setpriv are installed").isTrue();
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));

        Path bin = Files.createDirectories(dir.resolve("bin"));
        setuidSleep = bin.resolve("setuid-sleep");
        Files.copy(Path.of("/bin/sleep"), setuidSleep);
        Files.setAttribute(setuidSleep, "unix:mode", 04755);
        Path script = bin.resolve("connect-fork-exec.py");
        try (InputStream in = getClass().getResourceAsStream("/exec-race/connect-fork-exec.py")) {
            Files.copy(in, script);
        }
        Path relayDir = Files.createDirectories(dir.resolve("relay"));
        Files.setPosixFilePermissions(relayDir, PosixFilePermissions.fromString("rwxrwxrwx"));
        relaySocket = relayDir.resolve("relay.sock");

        Path proc = Path.of("/proc");
        fixture = new WorkloadApiFixture(dir, List.of(WorkloadAttestor.unix(proc, Path.of("/etc")), WorkloadAttestor.cgroup(proc)),
                proc, drifts::add, Duration.ofMillis(200), Clock.systemUTC());
        fixture.identities.setEntries(
                new Entry(Set.of(Selector.of("unix", "uid:" + NOBODY)), fixture.domain.x509("/nobody")),
                new Entry(Set.of(Selector.of("unix", "uid:0")), fixture.domain.x509("/root")));

        attacker = new ProcessBuilder(SETPRIV.toString(), "--reuid", Integer.toString(NOBODY), "--regid", Integer.toString(NOBODY),
                "--clear-groups", PYTHON.toString(), script.toString(), fixture.server.socketPath().toString(), relaySocket.toString(),
                setuidSleep.toString(), "300")
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        Eventually.within(Duration.ofSeconds(10), () -> assertThat(relaySocket).exists());
        clientGroup = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(relaySocket.toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(clientGroup)
                .withOption(io.netty.channel.ChannelOption.SO_KEEPALIVE, null)
                .usePlaintext()
                .build();
    }

    @AfterEach
    void stop() throws Exception {
        if (channel != null) {
            WorkloadApiFixture.shutdown(channel);
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (attacker != null) {
            attacker.descendants().forEach(ProcessHandle::destroyForcibly);
            attacker.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void setuidExecAfterConnectGetsNoIdentity() throws Exception {
        execSetuidBinary();

        assertThatThrownBy(() -> withoutKeys(stub().fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.getStatus().getDescription()).contains("pid " + attacker.pid());
                });
        assertThatThrownBy(() -> stub().fetchJWTSVID(JWTSVIDRequest.newBuilder().addAudience("db").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    }

    @Test
    void setuidExecDuringAnOpenStreamEndsTheStreamWithoutRootsIdentity() throws Exception {
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        SpiffeWorkloadAPIGrpc.newStub(channel).withInterceptors(WorkloadApiFixture.securityHeader())
                .fetchX509SVID(X509SVIDRequest.getDefaultInstance(), WorkloadApiSemanticsTest.collect(events));
        assertThat(events.poll(10, TimeUnit.SECONDS)).isInstanceOfSatisfying(X509SVIDResponse.class,
                response -> assertThat(response.getSvidsList()).extracting(svid -> svid.getSpiffeId())
                        .containsExactly("spiffe://example.org/nobody"));

        execSetuidBinary();
        fixture.identities.changed(); // a push right after the exec, before any re-attestation

        Object next = withoutKeys(events.poll(5, TimeUnit.SECONDS));
        assertThat(next).isInstanceOfSatisfying(Throwable.class,
                e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        fixture.awaitFreshReattestationRound(); // the monitor has looked again since: nothing more may arrive
        assertThat(events).extracting(ExecRaceTest::withoutKeys).isEmpty();
        assertThat(drifts.poll(5, TimeUnit.SECONDS)).isNotNull()
                .satisfies(drift -> assertThat(drift.selectorsAfter()).doesNotContain(Selector.of("unix", "uid:0")));
    }

    /** A response as the SPIFFE IDs it serves, so that a failure message never prints a private key. */
    private static Object withoutKeys(Object event) {
        return event instanceof X509SVIDResponse response
                ? "x509 svids " + response.getSvidsList().stream().map(svid -> svid.getSpiffeId()).toList()
                : event;
    }

    private SpiffeWorkloadAPIGrpc.SpiffeWorkloadAPIBlockingStub stub() {
        return SpiffeWorkloadAPIGrpc.newBlockingStub(channel).withInterceptors(WorkloadApiFixture.securityHeader())
                .withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    /** Lets the peer process exec the setuid binary and waits until it runs it with effective uid 0. */
    private void execSetuidBinary() throws Exception {
        OutputStream stdin = attacker.getOutputStream();
        stdin.write("exec\n".getBytes(StandardCharsets.UTF_8));
        stdin.flush();
        Path status = Path.of("/proc", Long.toString(attacker.pid()), "status");
        Eventually.within(Duration.ofSeconds(10), () -> {
            assertThat(Files.readSymbolicLink(status.resolveSibling("exe"))).isEqualTo(setuidSleep);
            assertThat(Files.readAllLines(status)).filteredOn(line -> line.startsWith("Uid:"))
                    .singleElement().satisfies(line -> assertThat(line.split("\\s+")[2]).isEqualTo("0"));
        });
    }
}
