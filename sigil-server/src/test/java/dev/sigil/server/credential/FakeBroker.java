package dev.sigil.server.credential;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-memory broker for lease tests. Its {@link Backend} lives outside the broker, so it survives a
 * server instance that is abandoned (a simulated crash) and is seen by the next one; it can be made
 * to fail on demand, or to "kill" the server (throw an {@link Error}) at a chosen point.
 */
final class FakeBroker implements Broker {
    static final String TYPE = "fake";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What the fake backend holds: granted credentials by lease id. */
    static final class Backend {
        final Map<LeaseId, Credential> granted = new ConcurrentHashMap<>();
        volatile boolean failing;
        volatile boolean crashAfterGrant;
        volatile boolean crashBeforeRevoke;
        final AtomicInteger revokeCalls = new AtomicInteger();
        /** When set, a grant puts its credential in the backend, counts this down, and waits for {@link #grantGate}. */
        volatile java.util.concurrent.CountDownLatch grantEntered;
        volatile java.util.concurrent.CountDownLatch grantGate;
        /** What {@link FakeBroker#parallelism()} reports. */
        volatile int parallelism = 1;
        /** When set, each revoke waits (1 s at most, then fails) until this many revokes are in flight at once. */
        volatile java.util.concurrent.CyclicBarrier revokeTogether;
        /** How long each revoke takes, as a slow backend's would. */
        volatile Duration revokeLatency = Duration.ZERO;
        final AtomicInteger revoking = new AtomicInteger();
        final AtomicInteger mostRevokingAtOnce = new AtomicInteger();

        boolean holds(LeaseId id) {
            return granted.containsKey(id);
        }
    }

    record Credential(String password, Instant validUntil) {
    }

    /** Thrown to simulate the process dying at that point: not a RuntimeException, so nothing handles it. */
    static final class Killed extends Error {
        Killed(String where) {
            super("simulated kill " + where);
        }
    }

    private final Backend backend;
    private final boolean listable;

    FakeBroker(Backend backend, boolean listable) {
        this.backend = backend;
        this.listable = listable;
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public void check(String resource, Map<String, String> parameters) {
        if (!resource.equals("db1") && !resource.equals("db2")) {
            throw new BrokerException.Rejected("resource '" + resource + "' is not served; use db1 or db2");
        }
        if (parameters.containsKey("bad")) {
            throw new BrokerException.Rejected("parameter 'bad' is not valid");
        }
    }

    @Override
    public Granted grant(LeaseGrant lease) {
        if (backend.failing) {
            throw new BrokerException.Unavailable("fake backend is down", null);
        }
        String password = HexFormat.of().formatHex(bytes());
        backend.granted.put(lease.id(), new Credential(password, lease.expiresAt()));
        if (backend.grantGate != null) {
            backend.grantEntered.countDown();
            try {
                if (!backend.grantGate.await(30, java.util.concurrent.TimeUnit.SECONDS)) {
                    throw new BrokerException.Unavailable("fake backend: grant gate never opened", null);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BrokerException.Unavailable("fake backend: interrupted", e);
            }
        }
        if (backend.crashAfterGrant) {
            throw new Killed("after grant");
        }
        return new Granted(new CredentialSecret(Map.of("username", "u_" + lease.id(), "password", password), password),
                Map.of("role", "u_" + lease.id(), "Key-ID", "k-" + lease.id()));
    }

    @Override
    public void renew(LeaseGrant lease, Instant newExpiry) {
        if (backend.failing) {
            throw new BrokerException.Unavailable("fake backend is down", null);
        }
        backend.granted.computeIfPresent(lease.id(), (id, credential) -> new Credential(credential.password(), newExpiry));
    }

    @Override
    public void revoke(LeaseGrant lease) {
        if (backend.crashBeforeRevoke) {
            throw new Killed("before revoke");
        }
        backend.revokeCalls.incrementAndGet();
        if (backend.failing) {
            throw new BrokerException.Unavailable("fake backend is down", null);
        }
        backend.mostRevokingAtOnce.accumulateAndGet(backend.revoking.incrementAndGet(), Math::max);
        try {
            if (!backend.revokeLatency.isZero()) {
                java.util.concurrent.locks.LockSupport.parkNanos(backend.revokeLatency.toNanos());
            }
            if (backend.revokeTogether != null) {
                backend.revokeTogether.await(1, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.BrokenBarrierException e) {
            throw new BrokerException.Unavailable("fake backend: revocations did not overlap", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BrokerException.Unavailable("fake backend: interrupted", e);
        } finally {
            backend.revoking.decrementAndGet();
        }
        backend.granted.remove(lease.id());
    }

    @Override
    public int parallelism() {
        return backend.parallelism;
    }

    @Override
    public Optional<Set<LeaseId>> granted() {
        if (backend.failing) {
            throw new BrokerException.Unavailable("fake backend is down", null);
        }
        return listable ? Optional.of(Set.copyOf(backend.granted.keySet())) : Optional.empty();
    }

    @Override
    public Optional<String> leakKey(String reported) {
        String trimmed = reported.strip();
        return trimmed.matches("[0-9a-f]{32}") ? Optional.of(trimmed) : Optional.empty();
    }

    /** True when the backend would let this password in now (the contract's "real login"). */
    boolean works(LeaseId id, String password, Instant now) {
        Credential credential = backend.granted.get(id);
        return credential != null && credential.password().equals(password) && now.isBefore(credential.validUntil());
    }

    private static byte[] bytes() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return bytes;
    }
}
