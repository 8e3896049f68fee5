package dev.sigil.server;

import dev.sigil.core.crypto.CryptoProviders;
import dev.sigil.core.plugin.PluginRegistry;
import dev.sigil.server.audit.AuditCheckpoints;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.audit.SecretHasher;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.jobs.JobLeadership;
import dev.sigil.server.keys.KeyManager;
import dev.sigil.server.keys.KeyManagerFactory;
import dev.sigil.server.keys.KeyManagerPlugin;
import java.time.Clock;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What every subsystem stands on: the data directory, the datastore, the key manager and the audit trail. */
record Foundation(Datastore datastore, KeyManager keys, AuditCheckpoints checkpoints, AuditTrail audit, SecretHasher hasher,
                  JobLeadership leadership) {
    private static final Logger LOG = LoggerFactory.getLogger(Foundation.class);

    static Foundation open(ServerConfig config, Clock clock, Deque<AutoCloseable> resources) {
        return open(config, clock, resources, java.util.Optional.empty());
    }

    /** With {@code metrics}: the datastore pool is measured and the audit trail counts what it records. */
    static Foundation open(ServerConfig config, Clock clock, Deque<AutoCloseable> resources,
                           java.util.Optional<dev.sigil.server.metrics.ServerMetrics> metrics) {
        DataDirectory.prepare(config.dataDir());
        LOG.debug("signing provider: {}", CryptoProviders.describe());
        Datastore datastore = Datastore.open(config.datastore().toDatastoreConfig());
        resources.push(datastore);
        metrics.ifPresent(m -> m.datastore(datastore));
        KeyManager keys = KeyManagerFactory.create(config.keyManager(), PluginRegistry.installed(),
                new KeyManagerPlugin.Context(config.dataDir()));
        SecretHasher hasher = config.audit().hmacKeyFile().map(SecretHasher::loadShared)
                .orElseGet(() -> SecretHasher.loadOrCreate(config.dataDir().resolve("keys")));
        hasher.agreeWith(datastore, clock.instant());
        // checkpoints of every server sharing the datastore verify here: their keys are endorsed under the shared hmac key
        AuditCheckpoints checkpoints = AuditCheckpoints.create(datastore, keys, clock, config.audit().checkpointEvery(),
                config.audit().checkpointInterval(), hasher);
        AuditTrail recorded = AuditTrail.create(datastore, clock, checkpoints);
        AuditTrail audit = metrics.map(m -> m.metered(recorded, config.nodeAttestors().blocks().keySet())).orElse(recorded);
        // this server among the servers sharing the datastore: its name, the job leadership and heartbeat
        JobLeadership leadership = new JobLeadership(datastore, JobLeadership.instanceName(), clock);
        return new Foundation(datastore, keys, checkpoints, audit, hasher, leadership);
    }
}
