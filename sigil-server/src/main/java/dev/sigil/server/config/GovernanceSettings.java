package dev.sigil.server.config;

import dev.sigil.core.time.Durations;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Thresholds of the governance report (docs/governance.md): what counts as stale, long-lived, reused or
 * mixed across environments. Every value has a default, so a server without a {@code governance} block
 * still reports.
 *
 * @param owners              the known owners (teams or people); an entry whose owner is not among them is
 *                            NHI1. Empty: owners are not checked against a list.
 * @param staleAfter          an identity not served, an agent not seen, a policy rule or task allowance not
 *                            used for this long is reported; also how far back the audit trail is read
 * @param maxCredentialTtl    a live lease whose lifetime (issue to expiry, or to its maximum) is longer is NHI7
 * @param maxSvidTtl          an entry whose X.509-SVID or JWT-SVID TTL is longer is NHI7
 * @param renewalHeadroomPercent a renewed lease with less than this share of its maximum lifetime left is NHI7
 * @param reuseMaxNodes       a SPIFFE ID issued through more distinct agents (parents) is NHI9
 * @param reuseMaxBinaries    a SPIFFE ID issued to more distinct binaries (unix:sha256 / unix:path selectors) is NHI9
 * @param productionIds       SPIFFE ID patterns of production identities (exact, or a prefix ending in
 *                            {@code /*}); a production identity under a join-token-only node is NHI4
 * @param environments        environment name to resource patterns (exact, or a prefix ending in {@code *});
 *                            one identity holding credentials in two environments is NHI8. Empty: not checked.
 * @param maxAuditRecords     at most this many audit records are read per report; the report says when it
 *                            stopped early
 */
public record GovernanceSettings(List<String> owners, Duration staleAfter, Duration maxCredentialTtl, Duration maxSvidTtl,
                                 int renewalHeadroomPercent, int reuseMaxNodes, int reuseMaxBinaries, List<String> productionIds,
                                 Map<String, List<String>> environments, int maxAuditRecords) {
    public static final Duration DEFAULT_STALE_AFTER = Duration.ofDays(30);
    public static final Duration DEFAULT_MAX_CREDENTIAL_TTL = Duration.ofHours(24);
    public static final Duration DEFAULT_MAX_SVID_TTL = Duration.ofHours(24);
    public static final int DEFAULT_RENEWAL_HEADROOM_PERCENT = 10;
    public static final int DEFAULT_REUSE_MAX_NODES = 3;
    public static final int DEFAULT_REUSE_MAX_BINARIES = 3;
    public static final int DEFAULT_MAX_AUDIT_RECORDS = 500_000;

    public GovernanceSettings {
        owners = List.copyOf(owners);
        for (String owner : owners) {
            if (owner.isBlank()) {
                throw new ConfigException("governance.owners has a blank owner; list team or person names");
            }
        }
        ServerConfig.positive("governance.stale_after", staleAfter);
        ServerConfig.positive("governance.max_credential_ttl", maxCredentialTtl);
        ServerConfig.positive("governance.max_svid_ttl", maxSvidTtl);
        if (renewalHeadroomPercent < 0 || renewalHeadroomPercent > 100) {
            throw new ConfigException("governance.renewal_headroom_percent is " + renewalHeadroomPercent + "; use 0 to 100");
        }
        if (reuseMaxNodes < 1) {
            throw new ConfigException("governance.reuse_max_nodes is " + reuseMaxNodes + "; it must be at least 1");
        }
        if (reuseMaxBinaries < 1) {
            throw new ConfigException("governance.reuse_max_binaries is " + reuseMaxBinaries + "; it must be at least 1");
        }
        productionIds = List.copyOf(productionIds);
        for (String pattern : productionIds) {
            if (!pattern.startsWith("spiffe://")) {
                throw new ConfigException("governance.production_ids has '" + pattern
                        + "'; use a spiffe id, or a prefix ending in /* such as spiffe://example.org/prod/*");
            }
        }
        Map<String, List<String>> copy = new TreeMap<>();
        environments.forEach((name, patterns) -> {
            if (patterns == null || patterns.isEmpty()) {
                throw new ConfigException("governance.environments." + name + " has no resource patterns; list at least one");
            }
            copy.put(name, List.copyOf(patterns));
        });
        environments = java.util.Collections.unmodifiableMap(copy);
        if (maxAuditRecords < 1000) {
            throw new ConfigException("governance.max_audit_records is " + maxAuditRecords + "; it must be at least 1000");
        }
    }

    /** The defaults for {@code trustDomain}: production identities are those under /prod/ and /production/. */
    public static GovernanceSettings defaults(String trustDomain) {
        return new GovernanceSettings(List.of(), DEFAULT_STALE_AFTER, DEFAULT_MAX_CREDENTIAL_TTL, DEFAULT_MAX_SVID_TTL,
                DEFAULT_RENEWAL_HEADROOM_PERCENT, DEFAULT_REUSE_MAX_NODES, DEFAULT_REUSE_MAX_BINARIES,
                defaultProductionIds(trustDomain), Map.of(), DEFAULT_MAX_AUDIT_RECORDS);
    }

    static List<String> defaultProductionIds(String trustDomain) {
        return List.of("spiffe://" + trustDomain + "/prod/*", "spiffe://" + trustDomain + "/production/*");
    }

    /** The thresholds as the report prints them. */
    public Map<String, Object> describe() {
        Map<String, Object> values = new java.util.LinkedHashMap<>();
        values.put("owners", owners);
        values.put("stale_after", Durations.format(staleAfter));
        values.put("max_credential_ttl", Durations.format(maxCredentialTtl));
        values.put("max_svid_ttl", Durations.format(maxSvidTtl));
        values.put("renewal_headroom_percent", renewalHeadroomPercent);
        values.put("reuse_max_nodes", reuseMaxNodes);
        values.put("reuse_max_binaries", reuseMaxBinaries);
        values.put("production_ids", productionIds);
        values.put("environments", environments);
        values.put("max_audit_records", maxAuditRecords);
        return values;
    }
}
