package dev.sigil.server.agent;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.registration.EntryFilter;
import dev.sigil.server.registration.EntryStore;
import dev.sigil.server.registration.Page;
import dev.sigil.server.registration.PageRequest;
import dev.sigil.server.registration.RegistrationEntry;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which registration entries an agent may serve. An entry is authorized for an agent when its parent
 * is the agent's SPIFFE ID, or (node aliasing) the SPIFFE ID of a node entry: an entry whose parent is
 * the server ({@code spiffe://<td>/sigil/server}) and whose selectors are all among the agent's
 * attested selectors. Computed from the entry store at each call, so an entry change applies at once.
 */
final class AuthorizedEntries {
    private final EntryStore entries;
    private final SpiffeId serverId;

    AuthorizedEntries(EntryStore entries, SpiffeId serverId) {
        this.entries = entries;
        this.serverId = serverId;
    }

    /** The parents whose children {@code agent} may serve: itself and every node alias it matches. */
    Set<SpiffeId> parentsOf(Agent agent) {
        Set<SpiffeId> parents = new LinkedHashSet<>();
        parents.add(agent.spiffeId());
        if (!agent.selectors().isEmpty()) {
            EntryFilter aliases = EntryFilter.all().withParentId(serverId)
                    .withSelectors(EntryFilter.MatchMode.SUBSET, agent.selectors());
            for (RegistrationEntry alias : all(aliases)) {
                parents.add(alias.spiffeId());
            }
        }
        return parents;
    }

    static boolean authorized(RegistrationEntry entry, Set<SpiffeId> parents) {
        return parents.contains(entry.parentId());
    }

    /** True when {@code entry} is a node alias entry (a change to it can change what agents may serve). */
    boolean isNodeAlias(RegistrationEntry entry) {
        return entry.parentId().equals(serverId);
    }

    /** Every entry authorized for an agent with these parents. */
    List<RegistrationEntry> allFor(Set<SpiffeId> parents) {
        Set<String> seen = new HashSet<>();
        List<RegistrationEntry> result = new ArrayList<>();
        for (SpiffeId parent : parents) {
            for (RegistrationEntry entry : all(EntryFilter.all().withParentId(parent))) {
                if (seen.add(entry.id())) {
                    result.add(entry);
                }
            }
        }
        return result;
    }

    Optional<RegistrationEntry> find(String id) {
        return entries.find(id);
    }

    private List<RegistrationEntry> all(EntryFilter filter) {
        List<RegistrationEntry> result = new ArrayList<>();
        Page<RegistrationEntry> page = entries.list(filter, PageRequest.first(PageRequest.MAX_SIZE));
        result.addAll(page.items());
        while (page.nextPageToken().isPresent()) {
            page = entries.list(filter, PageRequest.next(page.nextPageToken().get(), PageRequest.MAX_SIZE));
            result.addAll(page.items());
        }
        return result;
    }
}
