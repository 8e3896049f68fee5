package dev.sigil.agent.workload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.selector.Selector;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CgroupWorkloadAttestorTest implements WorkloadAttestorContract {
    @Override
    public WorkloadAttestor attestor(Path procRoot) {
        return WorkloadAttestor.cgroup(procRoot);
    }

    private static final String ID = "3f4e9d1c2b7a8e6f5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e";

    @TempDir
    Path dir;

    @Test
    void dockerContainerIdIsFoundInCgroupV1Paths() throws Exception {
        FakeProc proc = new FakeProc(dir);
        proc.process(7, 1, FakeProc.status(0, 0, ""));
        proc.cgroup(7, "12:memory:/docker/" + ID + "\n11:cpu,cpuacct:/docker/" + ID + "\n1:name=systemd:/docker/" + ID + "\n");

        assertThat(WorkloadAttestor.cgroup(dir).attest(new PeerCredentials(7, 0, 0))).containsExactlyInAnyOrder(
                Selector.of("cgroup", "path:/docker/" + ID), Selector.of("cgroup", "container_id:" + ID));
    }

    @Test
    void containerIdIsFoundInSystemdScopeNamesOfEveryRuntime() {
        for (String path : new String[] {
                "/system.slice/docker-" + ID + ".scope",
                "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/cri-containerd-" + ID + ".scope",
                "/kubepods/besteffort/pod5678/" + ID,
                "/machine.slice/libpod-" + ID + ".scope/container",
                "/kubepods.slice/crio-" + ID + ".scope"}) {
            assertThat(CgroupWorkloadAttestor.containerId(path)).as(path).contains(ID);
        }
    }

    @Test
    void hostProcessHasAPathButNoContainerId() throws Exception {
        FakeProc proc = new FakeProc(dir);
        proc.process(8, 1, FakeProc.status(0, 0, ""));
        proc.cgroup(8, "0::/user.slice/user-1000.slice/session-2.scope\n");

        assertThat(WorkloadAttestor.cgroup(dir).attest(new PeerCredentials(8, 0, 0)))
                .containsExactly(Selector.of("cgroup", "path:/user.slice/user-1000.slice/session-2.scope"));
        assertThat(CgroupWorkloadAttestor.containerId("/user.slice/" + ID.substring(1))).isEmpty();
    }
}
