package dev.sigil.server;

import dev.sigil.server.federation.FederationRefresher;
import dev.sigil.server.federation.FederationStore;
import java.time.Clock;
import java.util.Deque;

/**
 * SPIFFE federation (docs/federation.md): the relationships in the datastore and this server's refresher,
 * which every server runs (the store keeps the writes idempotent) and which publishes the federated
 * bundles the agent API and the token service read.
 */
record Federation(FederationStore store, FederationRefresher refresher) {
    static Federation start(Clock clock, SigilServer.FederationSettings settings, Foundation foundation, Deque<AutoCloseable> resources) {
        FederationStore store = FederationStore.create(foundation.datastore(), foundation.audit(), clock);
        FederationRefresher refresher = new FederationRefresher(store, settings.webRoots(), clock, settings.minRefreshInterval(),
                settings.maxRefreshInterval());
        resources.push(refresher);
        // the bundles already known are served from the first request on, before the first refresh job runs
        refresher.tick();
        return new Federation(store, refresher);
    }
}
