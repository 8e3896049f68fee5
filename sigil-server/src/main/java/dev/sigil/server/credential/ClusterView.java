package dev.sigil.server.credential;

import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Where this server stands among the servers sharing its datastore, as the lease revoker needs it: its own
 * name (recorded on the leases it grants and the revocations it attempts), whether it runs the one-server
 * work (the expiry reaper, the retry worker, taking over a dead server's work), and which servers are alive.
 *
 * <p>Contract: a lease another live server is granting, or whose revocation it is attempting, is never
 * touched here; one recorded by a server that is not alive (or by nobody) is taken over. {@link #live()}
 * may be stale by one heartbeat; every takeover is a guarded state transition, so acting on a stale view
 * does work twice at worst, never with conflicting results.
 */
public record ClusterView(String self, BooleanSupplier leading, Supplier<Set<String>> live) {
    public ClusterView {
        Objects.requireNonNull(self, "self");
        Objects.requireNonNull(leading, "leading");
        Objects.requireNonNull(live, "live");
    }

    /** A server alone on its datastore (tests, embedded use): a name of its own, always leading, alone alive. */
    public static ClusterView alone() {
        String self = "alone/" + UUID.randomUUID();
        return new ClusterView(self, () -> true, () -> Set.of(self));
    }

    /** Whether {@code server} (a lease's recorded server, possibly null) is alive now. */
    boolean alive(String server, Set<String> live) {
        return server != null && (server.equals(self) || live.contains(server));
    }
}
