package dev.sigil.server;

import dev.sigil.core.plugin.PluginRegistry;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.credential.BrokerPlugin;
import dev.sigil.server.credential.Brokers;
import dev.sigil.server.credential.ConfiguredBroker;
import dev.sigil.server.credential.LeakResponse;
import dev.sigil.server.credential.ClusterView;
import dev.sigil.server.credential.LeaseService;
import dev.sigil.server.credential.LeaseStore;
import dev.sigil.server.drift.DriftGates;
import dev.sigil.server.evidence.SubjectEvidence;
import dev.sigil.server.policy.PolicyEngine;
import dev.sigil.server.policy.PolicyStore;
import dev.sigil.server.task.TaskStore;
import dev.sigil.server.token.IssuedTokens;
import dev.sigil.server.resource.ResourceStore;
import dev.sigil.server.token.TokenBroker;
import dev.sigil.server.token.TxnTokenBroker;
import dev.sigil.server.token.TokenService;
import dev.sigil.server.token.TokenSettings;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Everything that grants credentials and takes them back: policy, tasks, the brokers and the lease service,
 * the token service, the drift gates that refuse grants on stale credentials, and the leak response.
 */
record Grants(PolicyStore policyStore, PolicyEngine policy, TaskStore tasks, IssuedTokens issuedTokens, DriftGates gates,
              LeaseService leases, TokenSettings tokenSettings, TokenService tokens, LeakResponse leaks, Optional<String> sshUserCa,
              ResourceStore resources) {

    static Grants start(ServerConfig config, Clock clock, SigilServer.Options options, Foundation foundation, Identities identities,
                        Registrations registrations, Federation federation, Deque<AutoCloseable> resources) {
        PolicyStore policyStore = new PolicyStore(foundation.datastore(), foundation.audit(), clock);
        PolicyEngine policy = options.policyOverride().orElse(policyStore);
        IssuedTokens issuedTokens = new IssuedTokens(foundation.datastore());
        // A task's end revokes what was granted under it, inside the transaction that ends it.
        List<TaskStore.EndListener> onTaskEnd = new CopyOnWriteArrayList<>();
        TaskStore tasks = TaskStore.create(foundation.datastore(), foundation.audit(), clock, (connection, taskId, at) -> {
            for (TaskStore.EndListener listener : onTaskEnd) {
                listener.ended(connection, taskId, at);
            }
        });
        onTaskEnd.add(issuedTokens::revokeForTask);

        ServerConfig.TokenEndpointSettings tokenConfig = config.tokenEndpoint();
        String issuerUrl = config.jwtIssuer().toString();
        TokenSettings tokenSettings = new TokenSettings(issuerUrl,
                tokenConfig.audience().orElse(TokenSettings.defaultAudience(issuerUrl)), tokenConfig.defaultTtl(),
                Set.copyOf(tokenConfig.introspectors()));
        List<ConfiguredBroker> brokers = new ArrayList<>(Brokers.create(config.brokers(), PluginRegistry.installed(),
                new BrokerPlugin.Context(foundation.keys(), clock)));
        brokers.addAll(options.extraBrokers());
        // access tokens: minted locally, requested only through token exchange (their front door)
        brokers.add(new ConfiguredBroker(new TokenBroker(issuerUrl, identities.authority(), identities.statuses(), issuedTokens,
                foundation.datastore(), clock), tokenConfig.defaultTtl(), tokenConfig.defaultTtl(), false));
        // transaction tokens: minted locally, requested only through token exchange (requested_token_type txn_token)
        brokers.add(new ConfiguredBroker(new TxnTokenBroker(issuerUrl, identities.authority(), identities.statuses(), issuedTokens,
                foundation.datastore(), clock), TxnTokenBroker.ttl(tokenConfig.defaultTtl()), TxnTokenBroker.ttl(tokenConfig.defaultTtl()), false));
        for (ConfiguredBroker configured : brokers) {
            if (configured.broker() instanceof AutoCloseable closeable) {
                resources.push(closeable);
            }
        }
        // what relying systems need to trust brokered credentials (the ssh user ca), served on the bundle endpoint
        Optional<String> sshUserCa = brokers.stream().map(b -> b.broker().publicMaterial().get("ssh_user_ca"))
                .filter(Objects::nonNull).findFirst();

        DriftGates gates = new DriftGates(foundation.datastore(), clock);
        LeaseService leases = new LeaseService(new LeaseService.Dependencies(LeaseStore.create(foundation.datastore()),
                foundation.datastore(), foundation.audit(), policy, tasks::find,
                SubjectEvidence.cached(registrations.evidence(), clock, SubjectEvidence.DECISION_MAX_AGE),
                holder -> LeaseWiring.agentOf(registrations.entries(), holder), foundation.hasher()::keyedHash, brokers, clock,
                holder -> gates.refusesRenewal(holder).map(DriftGates::reason),
                new ClusterView(foundation.leadership().holder(), foundation.leadership()::leading, foundation.leadership()::live)));
        onTaskEnd.add(leases::revokeForTask);
        // Before any request: interrupted grants and revocations from a previous run are finished first.
        leases.revoker().reconcile();
        resources.push(leases.revoker().start());

        ResourceStore protectedResources = new ResourceStore(foundation.datastore(), foundation.audit(), clock);
        TokenService tokens = new TokenService(tokenSettings, identities.authority(), policy, tasks, issuedTokens, identities.statuses(),
                leases, (holder, issuedAt) -> gates.refusesGrant(holder, issuedAt).map(DriftGates::reason), foundation.datastore(),
                foundation.audit(), clock, registrations.evidence(), federation.refresher()::bundleOf, protectedResources);
        LeakResponse leaks = new LeakResponse(leases, foundation.audit(), foundation.hasher()::keyedHash,
                LeaseWiring.banning(registrations.entries()), LeaseWiring.tokenLeaks(tokens));
        return new Grants(policyStore, policy, tasks, issuedTokens, gates, leases, tokenSettings, tokens, leaks, sshUserCa, protectedResources);
    }
}
