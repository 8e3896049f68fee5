package dev.sigil.server.credential;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.policy.Decision;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link Broker} must have, proven against its real backend. Each broker's test
 * extends this class and says how to tell whether a granted credential really works.
 */
public abstract class BrokerContract {
    protected static final SpiffeId HOLDER = SpiffeId.parse("spiffe://sigil.test/billing/report-job");

    protected Broker broker;

    /** A broker connected to a fresh, real backend. */
    protected abstract Broker newBroker() throws Exception;

    /** A resource the broker serves. */
    protected abstract String resource();

    /** A resource the broker must reject. */
    protected abstract String unknownResource();

    /** Valid broker-specific request parameters for a fresh grant (e.g. a new SSH public key). */
    protected abstract Map<String, String> parameters() throws Exception;

    /** True when the credential lets its holder in at the backend right now (a real login). */
    protected abstract boolean credentialWorks(LeaseGrant lease, Granted granted) throws Exception;

    /**
     * True when the backend itself shows the grant, read from the backend's side rather than through the
     * holder's login: PostgreSQL lists the lease's role; an SSH certificate validates against the
     * broker's CA for the lease's principals and its key is not listed as revoked.
     */
    protected abstract boolean grantedInBackend(LeaseGrant lease, Granted granted) throws Exception;

    /**
     * True when the backend shows the revocation effect the broker defines for the lease, from the lease
     * alone: PostgreSQL has no role for it; SSH lists the lease's key in the revoked keys file sshd reads.
     */
    protected abstract boolean revokedInBackend(LeaseGrant lease) throws Exception;

    /** The expiry the backend enforces on the credential (PostgreSQL {@code VALID UNTIL}, certificate valid-before). */
    protected abstract Instant expiryInBackend(LeaseGrant lease, Granted granted) throws Exception;

    /** Whether the backend can extend a live credential; if not, {@link Broker#renew} must reject. */
    protected boolean renewable() {
        return true;
    }

    /** Whether {@link Broker#granted()} lists the backend (a database can; issued certificates cannot). */
    protected boolean listable() {
        return true;
    }

    @BeforeEach
    void connectBroker() throws Exception {
        broker = newBroker();
    }

    protected LeaseGrant lease(Duration ttl) throws Exception {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        return new LeaseGrant(LeaseId.random(), broker.type(), HOLDER, Optional.of("t-contract"), resource(), now,
                now.plus(ttl), List.of(), Decision.Obligations.none(), parameters());
    }

    @Test
    void grantedCredentialWorksUntilRevoked() throws Exception {
        LeaseGrant lease = lease(Duration.ofMinutes(10));
        broker.check(lease.resource(), lease.parameters());
        Granted granted = broker.grant(lease);
        assertThat(credentialWorks(lease, granted)).as("credential works after grant").isTrue();
        assertThat(grantedInBackend(lease, granted)).as("the backend shows the grant").isTrue();
        assertThat(revokedInBackend(lease)).as("the backend shows a revocation before revoke").isFalse();
        assertThat(expiryInBackend(lease, granted)).as("expiry the backend enforces").isEqualTo(lease.expiresAt());

        broker.revoke(lease);
        assertThat(credentialWorks(lease, granted)).as("credential works after revoke").isFalse();
        assertThat(revokedInBackend(lease)).as("the backend shows the revocation").isTrue();
        assertThat(grantedInBackend(lease, granted)).as("the backend shows the grant after revoke").isFalse();
    }

    /** Leak reports find the leases of {@link LeaseStore#SELF_NAMING_BROKERS} by the id their credential names, not by an index. */
    @Test
    void aLeakedCredentialNamesItsOwnLeaseExactlyWhenItsBrokerIsOneWhoseLeakHashesAreNotIndexed() throws Exception {
        LeaseGrant lease = lease(Duration.ofMinutes(10));
        Granted granted = broker.grant(lease);
        Optional<LeaseId> named = broker.namedLease(granted.secret().leakKey());
        if (LeaseStore.SELF_NAMING_BROKERS.contains(broker.type())) {
            assertThat(named).contains(lease.id());
        } else {
            assertThat(named).isEmpty();
        }
        broker.revoke(lease);
    }

    @Test
    void revokingANeverGrantedLeaseSucceeds() throws Exception {
        LeaseGrant lease = lease(Duration.ofMinutes(10));
        broker.revoke(lease);
        assertThat(revokedInBackend(lease)).as("the backend shows the lease revoked").isTrue();
        if (listable()) {
            assertThat(broker.granted()).hasValueSatisfying(granted -> assertThat(granted).doesNotContain(lease.id()));
        }
        LeaseGrant other = lease(Duration.ofMinutes(10));
        Granted granted = broker.grant(other);
        assertThat(credentialWorks(other, granted)).as("another lease's credential still works").isTrue();
    }

    @Test
    void revokingTwiceSucceeds() throws Exception {
        LeaseGrant lease = lease(Duration.ofMinutes(10));
        Granted granted = broker.grant(lease);
        broker.revoke(lease);
        broker.revoke(lease);
        assertThat(credentialWorks(lease, granted)).as("credential works after two revokes").isFalse();
        assertThat(revokedInBackend(lease)).as("the backend shows the revocation").isTrue();
        assertThat(grantedInBackend(lease, granted)).as("the backend shows the grant after two revokes").isFalse();
    }

    @Test
    void unknownResourceIsRejectedWithoutTouchingTheBackend() throws Exception {
        Optional<java.util.Set<LeaseId>> before = broker.granted();
        assertThatThrownBy(() -> broker.check(unknownResource(), parameters()))
                .isInstanceOf(BrokerException.Rejected.class)
                .hasMessageContaining(unknownResource());
        assertThat(broker.granted()).isEqualTo(before);
    }

    @Test
    void listableBackendListsAGrantedLeaseUntilItIsRevoked() throws Exception {
        LeaseGrant lease = lease(Duration.ofMinutes(10));
        Granted granted = broker.grant(lease);
        if (!listable()) {
            // nothing to reconcile at start-up: the credential ends by itself or by the revocation effect
            assertThat(broker.granted()).as("an unlistable backend lists nothing").isEmpty();
            assertThat(grantedInBackend(lease, granted)).isTrue();
            broker.revoke(lease);
            assertThat(grantedInBackend(lease, granted)).isFalse();
            return;
        }
        assertThat(broker.granted()).hasValueSatisfying(listed -> assertThat(listed).contains(lease.id()));
        broker.revoke(lease);
        assertThat(broker.granted()).hasValueSatisfying(listed -> assertThat(listed).doesNotContain(lease.id()));
    }

    @Test
    void aReportedLeakMapsToTheSecretsLeakKey() throws Exception {
        Granted granted = broker.grant(lease(Duration.ofMinutes(10)));
        String leakKey = granted.secret().leakKey();
        assertThat(broker.leakKey(leakKey)).contains(leakKey);
        assertThat(broker.leakKey("  " + leakKey + "\n")).contains(leakKey);
    }

    @Test
    void secretValuesNeverAppearInToStringOrDetails() throws Exception {
        Granted granted = broker.grant(lease(Duration.ofMinutes(10)));
        for (String value : granted.secret().revealToHolder().values()) {
            if (value.length() >= 8 && value.equals(granted.secret().leakKey())) {
                assertThat(granted.toString()).doesNotContain(value);
                assertThat(granted.details().values()).noneMatch(detail -> detail.contains(value));
            }
        }
        assertThat(granted.secret().toString()).doesNotContain(granted.secret().leakKey());
    }

    @Test
    void renewExtendsALiveCredentialOrIsRejected() throws Exception {
        LeaseGrant lease = lease(Duration.ofMinutes(10));
        Granted granted = broker.grant(lease);
        Instant later = lease.expiresAt().plus(Duration.ofMinutes(10));
        if (renewable()) {
            broker.renew(lease, later);
            assertThat(expiryInBackend(lease, granted)).as("expiry the backend enforces after renew").isEqualTo(later);
            assertThat(credentialWorks(lease.withExpiresAt(later), granted)).isTrue();
        } else {
            assertThatThrownBy(() -> broker.renew(lease, later)).isInstanceOf(BrokerException.Rejected.class);
            assertThat(expiryInBackend(lease, granted)).as("expiry after a rejected renew").isEqualTo(lease.expiresAt());
            assertThat(credentialWorks(lease, granted)).as("credential works after a rejected renew").isTrue();
        }
        broker.revoke(lease);
        assertThat(credentialWorks(lease, granted)).as("credential works after revoke").isFalse();
    }
}
