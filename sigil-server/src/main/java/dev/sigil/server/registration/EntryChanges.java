package dev.sigil.server.registration;

import java.util.List;

/**
 * What changed after a revision: entries created or updated (in their current state) and ids of
 * deleted entries. Apply both, then ask again from {@code throughRevision}; {@code more} says that
 * the limit cut the answer short. Ids are never reused, so no id is in both lists.
 */
public record EntryChanges(List<RegistrationEntry> changed, List<String> deletedIds, long throughRevision, boolean more) {
    public EntryChanges {
        changed = List.copyOf(changed);
        deletedIds = List.copyOf(deletedIds);
    }
}
