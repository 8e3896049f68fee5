package dev.sigil.server;

import dev.sigil.server.audit.AuditJsonlExporter;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.jobs.Job;
import dev.sigil.server.jobs.JobRunner;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The server's periodic jobs (docs/architecture.md, "Periodic jobs"), each named and declared per server or per cluster. */
final class ServerJobs {
    private static final Logger LOG = LoggerFactory.getLogger(ServerJobs.class);
    /** How often rotation and renewal are checked; each check is cheap when nothing is due. */
    static final Duration TICK = Duration.ofSeconds(5);
    /** How often registration changes and agent bans are checked against issued credentials. */
    private static final Duration REGISTRATION_CHECK = Duration.ofSeconds(1);
    /** How often federation relationships are reloaded and due bundle fetches started. */
    private static final Duration FEDERATION_TICK = Duration.ofSeconds(1);
    private static final Duration PRUNE_INTERVAL = Duration.ofMinutes(1);
    /** Registry and status rows of expired tokens are kept this long (for operators' lookups), then pruned. */
    private static final Duration EXPIRED_TOKEN_RETENTION = Duration.ofHours(1);
    /** A server that stopped without leaving (killed) stays listed this long, then is forgotten. */
    private static final Duration SILENT_SERVER_RETENTION = Duration.ofHours(1);

    private ServerJobs() {
    }

    static JobRunner start(ServerConfig config, Clock clock, Foundation foundation, Identities identities, Registrations registrations,
                           Grants grants, DriftResponses drift, Federation federation) {
        // ONE_SERVER jobs run on the one server that holds the job leadership in the shared datastore
        JobRunner jobs = new JobRunner(foundation.leadership());
        jobs.register(new Job("authority-rotation", TICK, Job.Scope.EVERY_SERVER, identities::rotate));
        jobs.register(new Job("drift-gates-reload", TICK, Job.Scope.EVERY_SERVER, grants.gates()::reload));
        // Converge with policies applied through other servers on the same datastore.
        jobs.register(new Job("policy-reload", TICK, Job.Scope.EVERY_SERVER, grants.policyStore()::reload));
        // Every server refreshes the federated bundles (idempotent writes) and reloads the relationships each second.
        jobs.register(new Job("federation-refresh", FEDERATION_TICK, Job.Scope.EVERY_SERVER, federation.refresher()::tick));
        jobs.register(new Job("prune-expired", PRUNE_INTERVAL, Job.Scope.ONE_SERVER, () -> {
            registrations.joinTokens().pruneExpired(Identities.ACTOR);
            registrations.usedNodeEvidence().pruneExpired();
            Instant expiredBefore = clock.instant().minus(EXPIRED_TOKEN_RETENTION);
            grants.issuedTokens().pruneExpired(expiredBefore);
            identities.statuses().pruneExpired(expiredBefore);
            foundation.leadership().forgetServersSilentFor(SILENT_SERVER_RETENTION);
        }));
        // Registration changes and bans reach issued credentials within a second (cheap when nothing changed).
        jobs.register(new Job("registration-revocations", REGISTRATION_CHECK, Job.Scope.ONE_SERVER,
                drift.registrationRevocations()::tick));
        // Checkpoints get their own cadence: the interval is usually shorter than the rotation tick.
        jobs.register(new Job("audit-checkpoints", Duration.ofMillis(Math.min(1000, config.audit().checkpointInterval().toMillis())),
                Job.Scope.ONE_SERVER, foundation.checkpoints()::checkpointIfDue));
        config.audit().jsonlFile().ifPresent(file -> {
            AuditJsonlExporter exporter;
            try {
                exporter = AuditJsonlExporter.create(foundation.audit(), file);
            } catch (RuntimeException e) {
                // The datastore is the record of truth; a damaged copy must not stop the server.
                LOG.error("audit jsonl file disabled: {}", e.getMessage(), e);
                return;
            }
            jobs.register(new Job("audit-jsonl-export", Duration.ofSeconds(1), Job.Scope.EVERY_SERVER, exporter::exportNew));
        });
        return jobs;
    }
}
