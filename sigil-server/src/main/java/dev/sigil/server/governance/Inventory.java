package dev.sigil.server.governance;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Every identity (registration entry) and every agent, with what Sigil knows of each: the shape of
 * {@code GET /v1/inventory} (snake_case on the wire; docs/governance.md, "Inventory"). TTLs and ages are
 * whole seconds. Never a secret: credentials appear as their lease ids and non-secret facts.
 *
 * @param activitySince    the start of the audit window that "last served", "last exchanged" and drift
 *                         counts were read from; absent values mean "not within the window"
 * @param activityComplete false when the audit window held more records than the report reads
 *                         ({@code governance.max_audit_records}): then the newest activity is missing
 */
public record Inventory(Instant generatedAt, Instant activitySince, boolean activityComplete, List<Identity> identities,
                        List<AgentRow> agents) {
    public Inventory {
        identities = List.copyOf(identities);
        agents = List.copyOf(agents);
    }

    /**
     * One registration entry.
     *
     * @param trustLevel   the lower of the trust level of the agent it is issued through and of the workload
     *                     attestation its selectors require; absent when the parent is not a registered agent
     * @param attestor     how the parent agent's node was attested ({@code join_token}, {@code x509pop}, ...)
     * @param lastServed   the newest SVID issued for the SPIFFE ID in the window (any entry of it)
     * @param lastExchanged the newest credential or access token granted to the SPIFFE ID in the window
     * @param credentials  the SPIFFE ID's leases not yet revoked (pending, active, revoking), newest first
     * @param tasks        tasks held by the SPIFFE ID that are still active
     * @param driftCount   workload drift reports naming the SPIFFE ID in the window
     */
    public record Identity(String entryId, String spiffeId, String owner, String parentId, Optional<Integer> trustLevel,
                           Optional<String> attestor, List<String> selectors, boolean admin, Instant createdAt, Instant updatedAt,
                           long x509SvidTtl, long jwtSvidTtl, Optional<Instant> lastServed, Optional<Instant> lastExchanged,
                           List<Credential> credentials, List<TaskRow> tasks, int driftCount) {
        public Identity {
            selectors = List.copyOf(selectors);
            credentials = List.copyOf(credentials);
            tasks = List.copyOf(tasks);
        }
    }

    /**
     * One live lease.
     *
     * @param ttl     seconds from issue to current expiry
     * @param maxTtl  seconds from issue to the maximum expiry renewals may reach
     * @param age     seconds since issue
     */
    public record Credential(String leaseId, String broker, String resource, String state, Optional<String> task, Instant issuedAt,
                             Instant expiresAt, Instant maxExpiresAt, long ttl, long maxTtl, long age) {
    }

    public record TaskRow(String id, String owner, String purpose, Instant createdAt, Instant expiresAt) {
    }

    /**
     * One registered agent.
     *
     * @param lastSeen the later of its last attestation and its last SVID renewal
     * @param entries  registration entries naming it as their parent
     */
    public record AgentRow(String spiffeId, String attestor, int trustLevel, List<String> selectors, Instant firstAttestedAt,
                           Instant lastSeen, Instant svidExpiresAt, boolean banned, int entries) {
        public AgentRow {
            selectors = List.copyOf(selectors);
        }
    }
}
