package dev.sigil.agent.server;

import dev.sigil.core.bundle.SpiffeBundle;
import java.util.List;
import java.util.Optional;

/**
 * One SyncEntries answer: changed and removed entries up to {@code throughRevision}, and the bundle if
 * it changed. With {@code fullState}, {@code changed} is the agent's complete authorized set (across the
 * pages of one sync round): entries not in it are to be dropped.
 */
public record SyncPage(List<RegistrationEntry> changed, List<String> removedIds, long throughRevision, boolean more,
                       Optional<SpiffeBundle> bundle, boolean fullState) {
    public SyncPage {
        changed = List.copyOf(changed);
        removedIds = List.copyOf(removedIds);
    }
}
