package dev.sigil.agent.cache;

import dev.sigil.agent.AgentException;
import dev.sigil.agent.server.SyncPage;
import java.util.HashSet;
import java.util.Set;

/**
 * Brings the cache's entry table up to date: asks for changes since the last revision, page by page
 * while the server says there are more, then marks the cache synced. When the server answers with its
 * full state, entries it did not list are dropped.
 */
public final class EntrySync {
    static final int PAGE = 1000;

    /** What entry sync needs from the server. */
    public interface Source {
        SyncPage sync(long sinceRevision, long bundleSequence, String federatedDigest, int limit);
    }

    private final Source source;
    private final SvidCache cache;

    public EntrySync(Source source, SvidCache cache) {
        this.source = source;
        this.cache = cache;
    }

    /** Runs one complete sync; returns the number of pages fetched. */
    public int syncOnce() {
        int pages = 0;
        Set<String> fullState = null;
        SyncPage page;
        do {
            long since = cache.lastSyncRevision();
            page = source.sync(since, cache.bundleSequence(), cache.federatedBundlesDigest(), PAGE);
            page.federated().ifPresent(update -> cache.updateFederatedBundles(update.bundles(), update.digest()));
            if (page.fullState() && fullState == null) {
                fullState = new HashSet<>();
            }
            if (fullState != null) {
                for (var entry : page.changed()) {
                    fullState.add(entry.id());
                }
            }
            cache.apply(page.changed(), page.removedIds(), page.throughRevision(), page.bundle());
            pages++;
            if (page.more() && page.throughRevision() <= since) {
                throw new AgentException("server says more entries follow revision " + since
                        + " but sent through revision " + page.throughRevision() + "; sync stopped to avoid a loop");
            }
        } while (page.more());
        if (fullState != null) {
            cache.retainOnly(fullState);
        }
        cache.markSynced();
        return pages;
    }
}
