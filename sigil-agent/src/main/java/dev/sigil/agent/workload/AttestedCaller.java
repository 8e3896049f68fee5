package dev.sigil.agent.workload;

import dev.sigil.core.selector.Selector;
import java.util.Set;

/**
 * A caller attested once: the process (pid plus start time) and its selectors. The selectors are valid
 * only while {@link CallerAttestor#stillSame} says the pid still names this process.
 */
record AttestedCaller(PeerCredentials peer, long startTime, Set<Selector> selectors) {
    AttestedCaller {
        selectors = Set.copyOf(selectors);
    }
}
