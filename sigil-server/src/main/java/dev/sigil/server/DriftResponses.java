package dev.sigil.server;

import dev.sigil.server.agent.DriftListener;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.drift.DriftResponder;
import dev.sigil.server.drift.RegistrationRevocations;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * Taking credentials back when what they were granted on changes: workload drift reported by agents (the
 * graded response, then the embedder's listener), entries no longer issued and banned agents.
 */
record DriftResponses(RegistrationRevocations registrationRevocations, DriftListener listener) {
    static DriftResponses start(ServerConfig config, Clock clock, SigilServer.Options options, Foundation foundation,
                                Registrations registrations, Grants grants) {
        // A gate must outlive every SVID issued before it; no X.509-SVID outlives its CA.
        Duration gateLifetime = config.ca().ttl();
        RegistrationRevocations revocations = new RegistrationRevocations(registrations.entries(), registrations.agents(),
                grants.leases(), grants.issuedTokens(), grants.gates(), foundation.datastore(), foundation.audit(), clock, gateLifetime);
        // Workload drift (docs/drift.md): each accepted report is audited (workload.drift), answered by the graded
        // response (revoke, narrow, reattest or ignore, per policy; linked to event.driftId()), then handed on.
        DriftResponder responder = new DriftResponder(new DriftResponder.Dependencies(grants.policy(), Optional.of(grants.leases()),
                grants.issuedTokens(), grants.gates(), foundation.datastore(), foundation.audit(), clock, gateLifetime));
        DriftListener listener = event -> {
            responder.onDrift(event);
            options.driftListener().onDrift(event);
        };
        return new DriftResponses(revocations, listener);
    }
}
