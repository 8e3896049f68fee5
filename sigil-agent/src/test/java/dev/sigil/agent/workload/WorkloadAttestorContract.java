package dev.sigil.agent.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What every {@link WorkloadAttestor} guarantees; each implementation's test implements this. */
public interface WorkloadAttestorContract {

    /** The attestor under test reading procfs at {@code procRoot}. */
    WorkloadAttestor attestor(Path procRoot);

    @Test
    default void selectorsOfTheRunningJvmAreAllOfTheAttestorsType() {
        WorkloadAttestor attestor = attestor(Path.of("/proc"));
        assertThat(attestor.attest(WorkloadApiFixture.ownCredentials()))
                .isNotEmpty()
                .allMatch(selector -> selector.type().equals(attestor.type()));
    }

    /** The server rates workloads by the attestor behind their selectors: every attestor has a level there. */
    @Test
    default void theAttestorsSelectorTypeHasATrustLevel(@TempDir Path emptyProc) {
        assertThat(dev.sigil.core.selector.WorkloadTrust.graded(attestor(emptyProc).type())).isPresent();
    }

    @Test
    default void processMissingFromProcIsAnAttestationFailure(@TempDir Path emptyProc) {
        assertThatThrownBy(() -> attestor(emptyProc).attest(new PeerCredentials(4242, 1000, 1000)))
                .isInstanceOf(WorkloadAttestationException.class)
                .hasMessageContaining("4242");
    }
}
