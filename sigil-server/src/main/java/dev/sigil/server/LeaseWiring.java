package dev.sigil.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.admin.ApiJson;
import dev.sigil.server.credential.LeakResponse;
import dev.sigil.server.registration.EntryFilter;
import dev.sigil.server.registration.EntryStore;
import dev.sigil.server.registration.PageRequest;
import dev.sigil.server.registration.RegistrationEntry;
import dev.sigil.server.token.TokenService;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/** The lease service's narrow views of registration, the audit trail and the token service, wired by {@link SigilServer}. */
final class LeaseWiring {
    private static final ObjectMapper JSON = ApiJson.newMapper();

    private LeaseWiring() {
    }

    /** The agent a SPIFFE ID is issued through: the parent of its registration entries, when they all share one. */
    static Optional<SpiffeId> agentOf(EntryStore entries, SpiffeId holder) {
        Set<SpiffeId> parents = entries(entries, holder).stream().map(RegistrationEntry::parentId).collect(Collectors.toSet());
        return parents.size() == 1 ? Optional.of(parents.iterator().next()) : Optional.empty();
    }

    /** Deletes the holder's registration entries, returning each one's content as JSON for the audit record. */
    static LeakResponse.Banning banning(EntryStore entries) {
        return (holder, actor) -> {
            List<String> deleted = new ArrayList<>();
            for (RegistrationEntry entry : entries(entries, holder)) {
                String json;
                try {
                    json = JSON.writeValueAsString(entry);
                } catch (JsonProcessingException e) {
                    json = entry.toString();
                }
                entries.delete(entry.id(), actor);
                deleted.add(json);
            }
            return deleted;
        };
    }

    /**
     * Finds a leaked token by what it says (an access token's jti, a JWT-SVID's status list entry), not by
     * its bytes, and revokes it: see {@link TokenService#revokeLeaked}.
     */
    static LeakResponse.TokenLeaks tokenLeaks(TokenService tokens) {
        return tokens::revokeLeaked;
    }

    private static List<RegistrationEntry> entries(EntryStore entries, SpiffeId holder) {
        return entries.list(EntryFilter.all().withSpiffeId(holder), PageRequest.first(PageRequest.MAX_SIZE)).items();
    }
}
