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

    /** Whether the backend can extend a live credential; if not, {@link Broker#renew} must reject. */
    protected boolean renewable() {
        return true;
    }

    /** Whether the backend can list what it granted ({@link Broker#granted} present); if not, it must say so (empty). */
    protected boolean listable() {
        return true;
    }

    /**
     * When the backend itself will stop honouring the credential (PostgreSQL's {@code VALID UNTIL}), read
     * from the backend, not from the broker; empty when the backend has no such notion.
     */
    protected Optional<Instant> backendExpiry(LeaseGrant lease, Granted granted) throws Exception {
        return Optional.empty();
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

        broker.revoke(lease);
        assertThat(credentialWorks(lease, granted)).as("credential works after revoke").isFalse();
    }

    @Test
    void revokingANeverGrantedLeaseSucceedsAndTouchesNoOtherCredential() throws Exception {
        LeaseGrant live = lease(Duration.ofMinutes(10));
        Granted granted = broker.grant(live);
        Optional<java.util.Set<LeaseId>> before = broker.granted();

        broker.revoke(lease(Duration.ofMinutes(10)));

        assertThat(broker.granted()).as("what the backend lists").isEqualTo(before);
        assertThat(credentialWorks(live, granted)).as("another lease's credential still works").isTrue();
        broker.revoke(live);
    }

    @Test
    void revokingTwiceSucceedsAndTheCredentialStaysDead() throws Exception {
        LeaseGrant lease = lease(Duration.ofMinutes(10));
        Granted granted = broker.grant(lease);
        broker.revoke(lease);
        broker.revoke(lease);
        assertThat(credentialWorks(lease, granted)).as("credential works after two revokes").isFalse();
        broker.granted().ifPresent(listed -> assertThat(listed).doesNotContain(lease.id()));
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
    void aGrantedLeaseIsListedOrProvenLiveUntilItIsRevoked() throws Exception {
        LeaseGrant lease = lease(Duration.ofMinutes(10));
        Granted granted = broker.grant(lease);
        assertThat(broker.granted().isPresent()).as("the broker says whether its backend can list grants").isEqualTo(listable());
        if (listable()) {
            assertThat(broker.granted().orElseThrow()).contains(lease.id());
        } else {
            // nothing to list (an SSH certificate lives only with its holder): the credential itself is the evidence
            assertThat(credentialWorks(lease, granted)).isTrue();
        }
        broker.revoke(lease);
        if (listable()) {
            assertThat(broker.granted().orElseThrow()).doesNotContain(lease.id());
        }
        assertThat(credentialWorks(lease, granted)).isFalse();
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
        Optional<Instant> expiryBefore = backendExpiry(lease, granted);
        if (renewable()) {
            broker.renew(lease, later);
            assertThat(credentialWorks(lease.withExpiresAt(later), granted)).isTrue();
            if (expiryBefore.isPresent()) {
                assertThat(expiryBefore.get()).as("backend expiry before renew").isEqualTo(lease.expiresAt());
                assertThat(backendExpiry(lease, granted)).as("backend expiry after renew").contains(later);
            }
        } else {
            assertThatThrownBy(() -> broker.renew(lease, later)).isInstanceOf(BrokerException.Rejected.class);
            assertThat(credentialWorks(lease, granted)).as("a refused renew leaves the credential as it was").isTrue();
        }
        broker.revoke(lease);
        assertThat(credentialWorks(lease, granted)).isFalse();
    }
}
