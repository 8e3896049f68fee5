package dev.sigil.server.credential.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.credential.BrokerException;
import dev.sigil.server.credential.Granted;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.keys.KeyManager;
import dev.sigil.server.keys.KeyManagers;
import dev.sigil.server.policy.Decision;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The broker's own rules, without sshd: what it refuses and what it derives. */
class SshBrokerRulesTest {
    private static final SshBrokerSettings SETTINGS = new SshBrokerSettings(Set.of("prod-hosts", "db-hosts"), Optional.empty());
    private final SshBroker broker = SshBroker.create(SETTINGS, KeyManagers.memory(), Clock.systemUTC());

    private static LeaseGrant lease(String publicKey, Decision.Obligations obligations) {
        Instant now = Instant.now();
        return new LeaseGrant(LeaseId.random(), "ssh", SpiffeId.parse("spiffe://sigil.test/web"), Optional.empty(),
                "prod-hosts", now, now.plusSeconds(300), List.of(), obligations, Map.of("public_key", publicKey));
    }

    private static Decision.Obligations principals(String... names) {
        return Decision.Obligations.none().withSsh(Optional.of(Set.of(names)), Optional.empty(), Optional.empty());
    }

    private String rejection(String publicKey) {
        Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(
                () -> broker.check("prod-hosts", Map.of("public_key", publicKey)));
        assertThat(thrown).isInstanceOf(BrokerException.Rejected.class);
        return thrown.getMessage();
    }

    @Test
    void grantWithoutPrincipalsIsRefusedBecauseItWouldBeValidForEveryUser() throws Exception {
        LeaseGrant lease = lease(TestKeys.ed25519(), Decision.Obligations.none());

        assertThatThrownBy(() -> broker.grant(lease)).isInstanceOf(BrokerException.Rejected.class)
                .hasMessageContaining("no ssh principals").hasMessageContaining("valid for every user")
                .hasMessageContaining("ssh_principals");
        assertThatThrownBy(() -> broker.grant(lease(TestKeys.ed25519(), principals())))
                .isInstanceOf(BrokerException.Rejected.class).hasMessageContaining("valid for every user");
    }

    @Test
    void nonOverlappingSourceAddressesAreRefused() throws Exception {
        Decision.Obligations none = principals("ops").withSsh(Optional.of(Set.of("ops")), Optional.of(List.of()), Optional.empty());

        assertThatThrownBy(() -> broker.grant(lease(TestKeys.ed25519(), none)))
                .isInstanceOf(BrokerException.Rejected.class).hasMessageContaining("source_address");
    }

    @Test
    void malformedPublicKeysAreRejectedNamingWhatIsWrong() throws Exception {
        String ed25519 = TestKeys.ed25519();
        byte[] point = TestKeys.p256Point();
        point[64] ^= 1;
        assertThat(rejection("")).contains("public_key is missing");
        assertThat(rejection("ssh-dss AAAAB3NzaC1kc3M=")).contains("type 'ssh-dss' is not supported");
        assertThat(rejection("ssh-ed25519")).contains("no base64 key");
        assertThat(rejection("ssh-ed25519 not*base64")).contains("not valid base64");
        assertThat(rejection(ed25519.replace("ssh-ed25519 ", "ssh-rsa "))).contains("malformed ssh-rsa key")
                .contains("the blob says it is a 'ssh-ed25519' key");
        assertThat(rejection(TestKeys.ecdsa(point))).contains("not on the P-256 curve");
        assertThat(rejection(TestKeys.rsa(1024))).contains("the modulus has 1024 bits; use 2048");
        String truncated = ed25519.split(" ")[1];
        byte[] blob = Base64.getDecoder().decode(truncated);
        assertThat(rejection("ssh-ed25519 " + Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(blob, blob.length - 1))))
                .contains("malformed ssh-ed25519 key");
        assertThat(rejection("ssh-ed25519 " + Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(blob, blob.length + 1))))
                .contains("trailing bytes");
    }

    @Test
    void validKeysOfEachSupportedTypeAreAccepted() throws Exception {
        for (String key : List.of(TestKeys.ed25519(), TestKeys.ecdsa(TestKeys.p256Point()), TestKeys.rsa(2048))) {
            broker.check("prod-hosts", Map.of("public_key", key));
        }
    }

    @Test
    void unknownParameterAndUnknownResourceAreRejectedNamingThem() throws Exception {
        assertThatThrownBy(() -> broker.check("prod-hosts", Map.of("public_key", TestKeys.ed25519(), "user", "root")))
                .isInstanceOf(BrokerException.Rejected.class).hasMessageContaining("ssh parameter 'user' is unknown");
        assertThatThrownBy(() -> broker.check("web-hosts", Map.of("public_key", TestKeys.ed25519())))
                .isInstanceOf(BrokerException.Rejected.class)
                .hasMessageContaining("'web-hosts'").hasMessageContaining("[db-hosts, prod-hosts]");
    }

    @Test
    void caKeyIsStableAcrossBrokerRecreationWithADiskKeyManager(@TempDir Path keys) {
        String first = SshBroker.create(SETTINGS, KeyManagers.disk(keys), Clock.systemUTC()).caPublicKey();
        KeyManager reopened = KeyManagers.disk(keys);

        assertThat(SshBroker.create(SETTINGS, reopened, Clock.systemUTC()).caPublicKey()).isEqualTo(first);
        assertThat(first).startsWith("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY");
        assertThat(reopened.find(SshBroker.CA_KEY_ID)).isPresent();
    }

    @Test
    void certificateFieldsAndDetailsNameTheLease() throws Exception {
        LeaseGrant lease = lease(TestKeys.ed25519(), principals("ops"));
        Granted granted = broker.grant(lease);

        String certificate = granted.secret().revealToHolder().get("certificate");
        assertThat(certificate).startsWith("ssh-ed25519-cert-v01@openssh.com " + granted.secret().leakKey() + " ")
                .endsWith(" spiffe://sigil.test/web lease=" + lease.id());
        assertThat(granted.secret().revealToHolder()).containsEntry("ca_public_key", broker.caPublicKey());
        assertThat(granted.details()).containsEntry("key_id", "spiffe://sigil.test/web lease=" + lease.id())
                .containsEntry("serial", Long.toUnsignedString(SshBroker.serial(lease.id())))
                .containsEntry("principals", "ops").containsKey("public_key_fingerprint");
        assertThat(granted.details().get("public_key_fingerprint")).startsWith("SHA256:");
    }

    @Test
    void leakKeyIsTheCertificateBlobWhateverWasPasted() throws Exception {
        Granted granted = broker.grant(lease(TestKeys.ed25519(), principals("ops")));
        String blob = granted.secret().leakKey();

        assertThat(broker.leakKey(granted.secret().revealToHolder().get("certificate") + "\n")).contains(blob);
        assertThat(broker.leakKey("ssh-ed25519-cert-v01@openssh.com " + blob)).contains(blob);
        assertThat(broker.leakKey(TestKeys.ed25519())).isEmpty();
        assertThat(broker.leakKey("hunter2 password")).isEmpty();
    }

    @Test
    void renewIsRejectedAskingForANewCertificate() throws Exception {
        LeaseGrant lease = lease(TestKeys.ed25519(), principals("ops"));

        assertThatThrownBy(() -> broker.renew(lease, lease.expiresAt().plusSeconds(60)))
                .isInstanceOf(BrokerException.Rejected.class).hasMessageContaining("request a new certificate");
    }

    @Test
    void revokeWithoutARevokedKeysFileIsANoOp() throws Exception {
        broker.revoke(lease(TestKeys.ed25519(), principals("ops")));
        broker.revoke(lease("not a key", principals("ops")));
    }
}
