package dev.sigil.server.governance;

import dev.sigil.server.credential.Broker;
import dev.sigil.server.credential.CredentialSecret;
import dev.sigil.server.credential.Granted;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.credential.LeaseId;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/** A broker whose backend is a map: a random password per lease, removed on revocation. */
final class MemoryBroker implements Broker {
    final Map<LeaseId, String> backend = new ConcurrentHashMap<>();

    @Override
    public String type() {
        return "memory";
    }

    @Override
    public void check(String resource, Map<String, String> parameters) {
    }

    @Override
    public Granted grant(LeaseGrant lease) {
        String password = UUID.randomUUID().toString();
        backend.put(lease.id(), password);
        return new Granted(new CredentialSecret(Map.of("password", password), password), Map.of("user", "u-" + lease.id()));
    }

    @Override
    public void renew(LeaseGrant lease, Instant newExpiry) {
    }

    @Override
    public void revoke(LeaseGrant lease) {
        backend.remove(lease.id());
    }

    @Override
    public Optional<Set<LeaseId>> granted() {
        return Optional.of(Set.copyOf(backend.keySet()));
    }

    @Override
    public Optional<String> leakKey(String reported) {
        return Optional.of(reported.strip());
    }
}
