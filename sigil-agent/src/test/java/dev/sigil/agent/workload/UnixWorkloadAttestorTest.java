package dev.sigil.agent.workload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.selector.Selector;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnixWorkloadAttestorTest implements WorkloadAttestorContract {
    @Override
    public WorkloadAttestor attestor(Path procRoot) {
        return WorkloadAttestor.unix(procRoot, Path.of("/etc"));
    }

    @TempDir
    Path dir;

    private static Selector unix(String value) {
        return Selector.of("unix", value);
    }

    @Test
    void fakeProcessYieldsIdsNamesGroupsPathAndDigest() throws Exception {
        Path etc = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(etc.resolve("passwd"), "root:x:0:0:root:/root:/bin/sh\n# comment\napp:x:1001:1002::/home/app:/bin/sh\n");
        Files.writeString(etc.resolve("group"), "root:x:0:\napp:x:1002:\n");
        Path binary = Files.writeString(dir.resolve("app-binary"), "#!/bin/true\n");
        FakeProc proc = new FakeProc(Files.createDirectories(dir.resolve("proc")));
        proc.process(42, 777, FakeProc.status(1001, 1002, "4 27 1002"));
        proc.exe(42, binary);

        Set<Selector> selectors = WorkloadAttestor.unix(proc.root, etc).attest(new PeerCredentials(42, 1001, 1002));

        assertThat(selectors).containsExactlyInAnyOrder(
                unix("uid:1001"), unix("user:app"), unix("gid:1002"), unix("group:app"),
                unix("supplementary_gid:4"), unix("supplementary_gid:27"), unix("supplementary_gid:1002"),
                unix("path:" + binary), unix("sha256:" + sha256(binary)));
    }

    @Test
    void uidAndGidComeFromThePeerCredentialsNotFromProc() throws Exception {
        Path etc = Files.createDirectories(dir.resolve("etc-ids"));
        Files.writeString(etc.resolve("passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n");
        Files.writeString(etc.resolve("group"), "root:x:0:\nnogroup:x:65534:\n");
        FakeProc proc = new FakeProc(Files.createDirectories(dir.resolve("proc")));
        proc.process(45, 1, FakeProc.status("65534\t0\t0\t0", "65534\t0\t0\t0", "")); // after a setuid and setgid exec

        assertThat(WorkloadAttestor.unix(proc.root, etc).attest(new PeerCredentials(45, 65534, 65534)))
                .contains(unix("uid:65534"), unix("user:nobody"), unix("gid:65534"), unix("group:nogroup"))
                .doesNotContain(unix("uid:0"), unix("user:root"), unix("gid:0"), unix("group:root"));
    }

    @Test
    void idsWithoutNamesAndUnreadableBinaryGiveOnlyIdSelectors() throws Exception {
        FakeProc proc = new FakeProc(Files.createDirectories(dir.resolve("proc")));
        proc.process(43, 1, FakeProc.status(5000, 5000, ""));

        assertThat(WorkloadAttestor.unix(proc.root, dir.resolve("no-etc")).attest(new PeerCredentials(43, 5000, 5000)))
                .containsExactlyInAnyOrder(unix("uid:5000"), unix("gid:5000"));
    }

    @Test
    void accountFileReplacedByRenameIsSeenOnceTheLookupTtlPassed() throws Exception {
        Path etc = Files.createDirectories(dir.resolve("etc-names"));
        Files.writeString(etc.resolve("passwd"), "alice:x:1000:1000::/home/alice:/bin/sh\n");
        dev.sigil.testkit.MutableClock clock = dev.sigil.testkit.MutableClock.atEpochOfTests();
        NameDatabase names = new NameDatabase(etc, clock, java.time.Duration.ofSeconds(1));
        assertThat(names.userName(1000)).contains("alice");
        assertThat(names.userName(1001)).isEmpty();

        // the way useradd and vipw edit it: write a new file, rename it over the old one
        Path staged = Files.writeString(etc.resolve("passwd+"), "bob:x:1000:1000::/home/bob:/bin/sh\ncarol:x:1001:1001::/:/bin/sh\n");
        Files.move(staged, etc.resolve("passwd"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        clock.advance(java.time.Duration.ofMillis(999));
        assertThat(names.userName(1000)).as("within the ttl the parse is reused without a stat").contains("alice");

        clock.advance(java.time.Duration.ofMillis(1));
        assertThat(names.userName(1000)).contains("bob");
        assertThat(names.userName(1001)).contains("carol");
        assertThat(names.groupName(1000)).isEmpty();
    }

    @Test
    void unreadableAccountFileFailsTheLookupInsteadOfAnsweringFromTheOldParse() throws Exception {
        Path etc = Files.createDirectories(dir.resolve("etc-unreadable"));
        Files.writeString(etc.resolve("passwd"), "alice:x:1000:1000::/home/alice:/bin/sh\n");
        dev.sigil.testkit.MutableClock clock = dev.sigil.testkit.MutableClock.atEpochOfTests();
        NameDatabase names = new NameDatabase(etc, clock, java.time.Duration.ofSeconds(1));
        assertThat(names.userName(1000)).contains("alice");

        // a directory where the file was: it exists but cannot be read as a passwd file
        Files.delete(etc.resolve("passwd"));
        Files.createDirectory(etc.resolve("passwd"));
        clock.advance(java.time.Duration.ofSeconds(1));

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> names.userName(1000))
                .isInstanceOf(WorkloadAttestationException.class).hasMessageContaining("passwd");
    }

    @Test
    void replacedBinaryGetsANewDigest() throws Exception {
        Path binary = Files.writeString(dir.resolve("app"), "version 1");
        FakeProc proc = new FakeProc(Files.createDirectories(dir.resolve("proc")));
        proc.process(44, 1, FakeProc.status(1, 1, ""));
        proc.exe(44, binary);
        WorkloadAttestor attestor = WorkloadAttestor.unix(proc.root, dir);
        assertThat(attestor.attest(new PeerCredentials(44, 1, 1))).contains(unix("sha256:" + sha256(binary)));

        Path replacement = Files.writeString(dir.resolve("app.new"), "version 2, longer");
        Files.move(replacement, binary, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);

        assertThat(attestor.attest(new PeerCredentials(44, 1, 1))).contains(unix("sha256:" + sha256(binary)));
    }

    @Test
    void realProcessOfThisJvmIsAttested() throws Exception {
        int pid = (int) ProcessHandle.current().pid();
        String uid = new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes()).trim();
        Path java = Path.of(ProcessHandle.current().info().command().orElseThrow()).toRealPath();

        Set<Selector> selectors = WorkloadAttestor.unix(Path.of("/proc"), Path.of("/etc")).attest(WorkloadApiFixture.ownCredentials());

        assertThat(selectors).contains(unix("uid:" + uid), unix("path:" + java), unix("sha256:" + sha256(java)));
        assertThat(selectors).anyMatch(s -> s.value().startsWith("gid:"));
        if (uid.equals("0")) {
            assertThat(selectors).contains(unix("user:root"));
        }
    }

    private static String sha256(Path file) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(in.readAllBytes()));
        }
    }
}
