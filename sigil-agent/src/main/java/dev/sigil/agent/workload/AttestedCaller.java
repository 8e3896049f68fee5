package dev.sigil.agent.workload;

import dev.sigil.core.selector.Selector;
import java.util.Set;

/**
 * A caller attested once: the connection's process and its selectors. The selectors are valid only
 * while {@link CallerAttestor#check} finds the process unchanged.
 */
record AttestedCaller(PeerProcess peer, Set<Selector> selectors) {
    AttestedCaller {
        selectors = Set.copyOf(selectors);
    }

    int pid() {
        return peer.pid();
    }

    long startTime() {
        return peer.startTime();
    }
}
