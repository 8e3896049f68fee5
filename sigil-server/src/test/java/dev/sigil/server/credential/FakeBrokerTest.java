package dev.sigil.server.credential;

import java.time.Instant;
import java.util.Map;

/** The fake broker used by the lease tests keeps the same contract as the real ones. */
class FakeBrokerTest extends BrokerContract {
    private FakeBroker fake;
    private FakeBroker.Backend backend;

    @Override
    protected Broker newBroker() {
        backend = new FakeBroker.Backend();
        fake = new FakeBroker(backend, true);
        return fake;
    }

    @Override
    protected String resource() {
        return "db1";
    }

    @Override
    protected String unknownResource() {
        return "nope";
    }

    @Override
    protected Map<String, String> parameters() {
        return Map.of();
    }

    @Override
    protected boolean credentialWorks(LeaseGrant lease, Granted granted) {
        return fake.works(lease.id(), granted.secret().revealToHolder().get("password"), Instant.now());
    }

    @Override
    protected boolean grantedInBackend(LeaseGrant lease, Granted granted) {
        return backend.granted.containsKey(lease.id());
    }

    @Override
    protected boolean revokedInBackend(LeaseGrant lease) {
        return !backend.granted.containsKey(lease.id());
    }

    @Override
    protected Instant expiryInBackend(LeaseGrant lease, Granted granted) {
        return backend.granted.get(lease.id()).validUntil();
    }
}
