package dev.sigil.server.credential;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Leaked-credential response: a responder reports a leaked value (a password, an SSH certificate
 * line, an access token); the lease it belongs to is found by the keyed hash of each broker's
 * canonical form of it (a token, which names its lease, by that id, then the same hash compared) and
 * revoked at once; an access token whose signature verifies is also revoked in the token registry by
 * its jti. Optionally the holders are "banned": their registration entries are deleted so
 * they get no new identity, and the deleted entries' full content is written to the audit record
 * ({@code leak.ban}) so an operator can restore them. The reported value is never stored or audited,
 * only its keyed hashes.
 */
public final class LeakResponse {
    private static final String REASON = "leaked credential reported";

    /** Deletes the registration entries that issue {@code holder}; returns each deleted entry's content as JSON. */
    @FunctionalInterface
    public interface Banning {
        List<String> deleteEntriesOf(SpiffeId holder, String actor);
    }

    /** Revokes the access token whose value is {@code reported}, if the token service issued it; returns its subject. */
    @FunctionalInterface
    public interface TokenLeaks {
        Optional<SpiffeId> revokeLeakedToken(String reported, String actor);
    }

    /**
     * @param leases       leases found and revoked (or revoking, when the backend is down)
     * @param tokenHolder  the subject of a leaked access token that was revoked
     * @param bannedEntries how many registration entries were deleted
     */
    public record Result(List<LeaseId> leases, Optional<SpiffeId> tokenHolder, List<SpiffeId> holders, int bannedEntries) {
        public Result {
            leases = List.copyOf(leases);
            Objects.requireNonNull(tokenHolder, "tokenHolder");
            holders = List.copyOf(holders);
        }

        public boolean found() {
            return !leases.isEmpty() || tokenHolder.isPresent();
        }
    }

    private final LeaseService leases;
    private final AuditTrail audit;
    private final UnaryOperator<String> hasher;
    private final Banning banning;
    private final TokenLeaks tokens;

    public LeakResponse(LeaseService leases, AuditTrail audit, UnaryOperator<String> hasher, Banning banning, TokenLeaks tokens) {
        this.leases = Objects.requireNonNull(leases, "leases");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.hasher = Objects.requireNonNull(hasher, "hasher");
        this.banning = Objects.requireNonNull(banning, "banning");
        this.tokens = Objects.requireNonNull(tokens, "tokens");
    }

    public Result report(String reported, boolean ban, String actor) {
        AuditEvent.checkActor(actor);
        if (reported == null || reported.isBlank()) {
            throw new LeaseException.Invalid("the leaked value is empty; send the password, certificate line or token as reported");
        }
        Set<String> hashes = new LinkedHashSet<>();
        Map<LeaseId, Lease> found = new LinkedHashMap<>();
        for (ConfiguredBroker configured : leases.brokers().values()) {
            Broker broker = configured.broker();
            Optional<String> key = broker.leakKey(reported);
            Optional<String> hash = key.map(hasher);
            hash.ifPresent(hashes::add);
            // a credential that names its lease is found by id, and only when its hash is the lease's
            key.flatMap(broker::namedLease)
                    .flatMap(id -> leases.store().find(id))
                    .filter(lease -> lease.broker().equals(broker.type()))
                    .filter(lease -> lease.leakHash().map(stored -> sameHash(stored, hash.get())).orElse(false))
                    .ifPresent(lease -> found.put(lease.id(), lease));
        }
        leases.store().findByLeakHash(List.copyOf(hashes)).forEach(lease -> found.putIfAbsent(lease.id(), lease));
        List<LeaseId> ids = List.copyOf(found.keySet());
        Set<SpiffeId> holders = new LinkedHashSet<>(found.values().stream().map(Lease::holder).toList());
        for (LeaseId id : ids) {
            leases.revoke(LeaseFilter.all().withId(id), REASON, actor);
        }
        Optional<SpiffeId> tokenHolder = tokens.revokeLeakedToken(reported.strip(), actor);
        tokenHolder.ifPresent(holders::add);

        Map<String, String> details = new LinkedHashMap<>();
        details.put("value_hmac", hasher.apply(reported.strip()));
        details.put("leases", String.join(" ", ids.stream().map(LeaseId::value).toList()));
        details.put("token_revoked", Boolean.toString(tokenHolder.isPresent()));
        details.put("holders", dev.sigil.core.Printable.clip(String.join(" ", holders.stream().map(SpiffeId::toString).toList())));
        details.put("ban", Boolean.toString(ban));
        audit.append(AuditEvent.success(actor, "leak.report", holders.isEmpty() ? "unknown" : holders.iterator().next().toString(),
                details));

        int banned = 0;
        if (ban) {
            for (SpiffeId holder : holders) {
                List<String> deleted = banning.deleteEntriesOf(holder, actor);
                banned += deleted.size();
                audit.append(AuditEvent.success(actor, "leak.ban", holder.toString(), banDetails(deleted)));
            }
        }
        return new Result(ids, tokenHolder, new ArrayList<>(holders), banned);
    }

    private static boolean sameHash(String stored, String computed) {
        return java.security.MessageDigest.isEqual(stored.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                computed.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** The deleted entries, one detail each ({@code entry_1} …), split into parts when one exceeds a detail's size. */
    private static Map<String, String> banDetails(List<String> deleted) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("deleted_entries", Integer.toString(deleted.size()));
        int max = AuditEvent.MAX_DETAIL_LENGTH;
        for (int i = 0; i < deleted.size() && details.size() < AuditEvent.MAX_DETAILS; i++) {
            String json = deleted.get(i);
            for (int part = 0; part * max < json.length() && details.size() < AuditEvent.MAX_DETAILS; part++) {
                String key = "entry_" + (i + 1) + (json.length() > max ? "_part_" + (part + 1) : "");
                details.put(key, json.substring(part * max, Math.min(json.length(), (part + 1) * max)));
            }
        }
        return details;
    }
}
