package dev.sigil.agent.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.sigil.agent.workload.FakeWorkloadIdentities.Entry;
import dev.sigil.core.selector.Selector;
import dev.sigil.proto.workload.JWTSVIDRequest;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import dev.sigil.proto.workload.X509SVIDRequest;
import dev.sigil.proto.workload.X509SVIDResponse;
import dev.sigil.testkit.Eventually;
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
 * A caller that was served, and whose attestation the agent therefore keeps and reuses for its later
 * calls, then execs another, ordinary binary on the same connection: same pid, same start time, same
 * uids and gids, another executable. Real processes, the real agent socket, the real {@code /proc}: the
 * process (uid 65534) connects, is attested as the python interpreter and served that identity, forks a
 * child that relays the inherited connection to this test's client, and then execs a plain copy of
 * {@code sleep}, for which there is an entry too. The periodic re-attestation is slowed down to ten
 * minutes, so only the per-call re-check stands between the exec and the cached attestation. Needs root,
 * {@code setpriv} and {@code python3}.
 */
class ExecAfterServedTest {
    private static final int NOBODY = 65534;
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    @TempDir
    Path dir;

    private WorkloadApiFixture fixture;
    private Process caller;
    private Path plainSleep;
    private EventLoopGroup clientGroup;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        boolean root = Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        boolean tools = Files.isExecutable(PYTHON) && Files.isExecutable(SETPRIV);
        if (System.getenv("CI") != null) {
            assertThat(root && tools).as("under CI the exec test needs root, python3 and setpriv").isTrue();
        }
        assumeThat(root).as("runs as root").isTrue();
        assumeThat(tools).as("python3 and setpriv are installed").isTrue();
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));

        Path bin = Files.createDirectories(dir.resolve("bin"));
        plainSleep = bin.resolve("plain-sleep");
        Files.copy(Path.of("/bin/sleep"), plainSleep);
        Files.setAttribute(plainSleep, "unix:mode", 0755);
        Path script = bin.resolve("connect-fork-exec.py");
        try (InputStream in = getClass().getResourceAsStream("/exec-race/connect-fork-exec.py")) {
            Files.copy(in, script);
        }
        Path relayDir = Files.createDirectories(dir.resolve("relay"));
        Files.setPosixFilePermissions(relayDir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path relaySocket = relayDir.resolve("relay.sock");

        Path proc = Path.of("/proc");
        fixture = new WorkloadApiFixture(dir, List.of(WorkloadAttestor.unix(proc, Path.of("/etc")), WorkloadAttestor.cgroup(proc)),
                proc, drift -> { }, Duration.ofMinutes(10), Clock.systemUTC());
        caller = new ProcessBuilder(SETPRIV.toString(), "--reuid", Integer.toString(NOBODY), "--regid", Integer.toString(NOBODY),
                "--clear-groups", PYTHON.toString(), script.toString(), fixture.server.socketPath().toString(), relaySocket.toString(),
                plainSleep.toString(), "300")
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        Eventually.within(Duration.ofSeconds(10), () -> assertThat(relaySocket).exists());
        Path python = Files.readSymbolicLink(Path.of("/proc", Long.toString(caller.pid()), "exe"));
        fixture.identities.setEntries(
                new Entry(Set.of(Selector.of("unix", "uid:" + NOBODY), Selector.of("unix", "path:" + python)), fixture.domain.x509("/python")),
                new Entry(Set.of(Selector.of("unix", "uid:" + NOBODY), Selector.of("unix", "path:" + plainSleep)), fixture.domain.x509("/sleep")));
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
        if (caller != null) {
            caller.descendants().forEach(ProcessHandle::destroyForcibly);
            caller.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void execOfAnotherBinaryAfterBeingServedGetsNeitherTheCachedNorTheNewIdentity() throws Exception {
        // served twice as the interpreter: the second call reuses the kept attestation
        assertThat(spiffeIds(stub().fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next())).containsExactly("spiffe://example.org/python");
        assertThat(spiffeIds(stub().fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next())).containsExactly("spiffe://example.org/python");
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        SpiffeWorkloadAPIGrpc.newStub(channel).withInterceptors(WorkloadApiFixture.securityHeader())
                .fetchX509SVID(X509SVIDRequest.getDefaultInstance(), WorkloadApiSemanticsTest.collect(events));
        assertThat(withoutKeys(events.poll(10, TimeUnit.SECONDS))).isEqualTo("x509 svids [spiffe://example.org/python]");

        execPlainBinary();

        assertThatThrownBy(() -> withoutKeys(stub().fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.getStatus().getDescription()).contains("pid " + caller.pid()).contains("another executable");
                });
        assertThatThrownBy(() -> stub().fetchJWTSVID(JWTSVIDRequest.newBuilder().addAudience("db").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        fixture.identities.changed(); // a push to the open stream after the exec
        assertThat(withoutKeys(events.poll(5, TimeUnit.SECONDS))).isInstanceOfSatisfying(Throwable.class,
                e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    }

    private static List<String> spiffeIds(X509SVIDResponse response) {
        return response.getSvidsList().stream().map(svid -> svid.getSpiffeId()).toList();
    }

    /** A response as the SPIFFE IDs it serves, so that a failure message never prints a private key. */
    private static Object withoutKeys(Object event) {
        return event instanceof X509SVIDResponse response ? "x509 svids " + spiffeIds(response) : event;
    }

    private SpiffeWorkloadAPIGrpc.SpiffeWorkloadAPIBlockingStub stub() {
        return SpiffeWorkloadAPIGrpc.newBlockingStub(channel).withInterceptors(WorkloadApiFixture.securityHeader())
                .withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    /** Lets the connected process exec the plain binary and waits until it runs it (uids unchanged). */
    private void execPlainBinary() throws Exception {
        OutputStream stdin = caller.getOutputStream();
        stdin.write("exec\n".getBytes(StandardCharsets.UTF_8));
        stdin.flush();
        Path exe = Path.of("/proc", Long.toString(caller.pid()), "exe");
        Eventually.within(Duration.ofSeconds(10), () -> assertThat(Files.readSymbolicLink(exe)).isEqualTo(plainSleep));
    }
}
