package dev.sigil.agent.workload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.agent.workload.CallerAttestor.Attestation;
import dev.sigil.agent.workload.CallerAttestor.Attested;
import dev.sigil.agent.workload.CallerAttestor.Changed;
import dev.sigil.agent.workload.CallerAttestor.Gone;
import dev.sigil.core.selector.Selector;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The caller checks against a fake procfs: a process connected as uid and gid 1000 running {@code app};
 * the fake is then changed the ways a process can stop being what connected.
 */
class CallerAttestorTest {
    private static final int PID = 42;
    private static final PeerCredentials CONNECTED = new PeerCredentials(PID, 1000, 1000);

    @TempDir
    Path dir;

    private FakeProc proc;
    private Path app;
    private CallerAttestor attestor;
    private PeerProcess peer;

    @BeforeEach
    void connect() throws IOException {
        proc = new FakeProc(Files.createDirectories(dir.resolve("proc")));
        app = Files.writeString(dir.resolve("app"), "app");
        proc.process(CONNECTED, 100, app);
        attestor = new CallerAttestor(new ProcFs(proc.root), List.of(WorkloadAttestor.unix(proc.root, dir.resolve("etc"))));
        peer = new PeerProcess(CONNECTED, new ProcFs(proc.root).image(PID).orElseThrow());
    }

    @Test
    void unchangedProcessIsAttestedWithThePeerCredentialsIds() {
        assertThat(attestor.attest(peer)).isInstanceOfSatisfying(Attested.class, attested -> assertThat(attested.caller().selectors())
                .contains(Selector.of("unix", "uid:1000"), Selector.of("unix", "gid:1000"), Selector.of("unix", "path:" + app)));
        assertThat(attestor.check(peer)).isEmpty();
    }

    @ParameterizedTest(name = "uids {0}, gids {1}")
    @CsvSource({
            "1000 0 0 0,          1000 1000 1000 1000", // setuid-root program executed
            "0 1000 1000 1000,    1000 1000 1000 1000", // real uid differs
            "1000 1000 0 1000,    1000 1000 1000 1000", // saved uid differs
            "1000 1000 1000 0,    1000 1000 1000 1000", // filesystem uid differs
            "0 0 0 0,             1000 1000 1000 1000", // all uids changed together
            "1000 1000 1000 1000, 1000 0 0 0",          // setgid program executed
            "1000 1000 1000 1000, 1000 1000 1000 0",    // filesystem gid differs
    })
    void idsDifferingFromThePeerCredentialsAreRefused(String uids, String gids) throws IOException {
        proc.process(PID, 100, FakeProc.status(uids.replace(' ', '\t'), gids.replace(' ', '\t'), ""));

        assertThat(attestor.attest(peer)).isInstanceOfSatisfying(Changed.class, changed -> assertThat(changed.reason())
                .contains("caller pid 42").containsAnyOf("connected as uid 1000", "connected as gid 1000"));
        assertThat(attestor.check(peer)).containsInstanceOf(Changed.class);
    }

    @Test
    void anotherExecutableIsRefused() throws IOException {
        Files.delete(proc.root.resolve(PID + "/exe"));
        proc.exe(PID, Files.writeString(dir.resolve("setuid-tool"), "tool"));

        assertThat(attestor.attest(peer)).isInstanceOfSatisfying(Changed.class,
                changed -> assertThat(changed.reason()).contains("caller pid 42 runs another executable"));
    }

    @Test
    void unreadableStatusIsRefused() throws IOException {
        Files.delete(proc.root.resolve(PID + "/status"));

        assertThat(attestor.check(peer)).get().isInstanceOfSatisfying(Changed.class,
                changed -> assertThat(changed.reason()).contains("cannot be inspected"));
    }

    @Test
    void uninspectableExecutableIsRefused() throws IOException {
        Files.delete(app); // the link leads nowhere: as when the agent may not follow another user's link

        assertThat(attestor.attest(peer)).isInstanceOfSatisfying(Changed.class,
                changed -> assertThat(changed.reason()).contains("cannot be inspected"));
    }

    @Test
    void reusedPidAndExitedProcessAreGone() throws IOException {
        proc.setStartTime(PID, 101);
        assertThat(attestor.attest(peer)).isInstanceOf(Gone.class);

        proc.remove(PID);
        assertThat(attestor.attest(peer)).isInstanceOf(Gone.class);
    }

    @Test
    void setuidExecDuringAttestationIsRefused() {
        WorkloadAttestor execsWhileAttested = new WorkloadAttestor() {
            @Override
            public String type() {
                return "unix";
            }

            @Override
            public Set<Selector> attest(PeerCredentials credentials) {
                try {
                    Files.writeString(proc.root.resolve(PID + "/status"), FakeProc.status("1000\t0\t0\t0", "1000\t1000\t1000\t1000", ""));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                return Set.of(Selector.of("unix", "uid:" + credentials.uid()));
            }
        };
        Attestation attestation = new CallerAttestor(new ProcFs(proc.root), List.of(execsWhileAttested)).attest(peer);

        assertThat(attestation).isInstanceOf(Changed.class);
    }

    @Test
    void watchedProcessWithMixedIdsIsNotObserved() throws IOException {
        assertThat(attestor.observe(PID)).contains(peer);

        proc.process(PID, 100, FakeProc.status("1000\t0\t0\t0", "1000\t1000\t1000\t1000", ""));
        assertThat(attestor.observe(PID)).isEmpty();
    }
}
