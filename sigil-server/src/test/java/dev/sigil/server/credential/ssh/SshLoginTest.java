package dev.sigil.server.credential.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.credential.Granted;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.keys.KeyManagers;
import dev.sigil.server.policy.Decision;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What sshd and ssh-keygen make of the certificates: validity, principals, critical options, key types. */
class SshLoginTest {
    private static final SpiffeId HOLDER = SpiffeId.parse("spiffe://sigil.test/ops/deployer");
    @TempDir
    static Path directory;
    private static OpenSsh sshd;
    private static SshBroker broker;

    @BeforeAll
    static void start() throws Exception {
        OpenSsh.assumeAvailable();
        broker = SshBroker.create(new SshBrokerSettings(Set.of("prod-hosts"), Optional.of(directory.resolve("revoked"))),
                KeyManagers.memory(), Clock.systemUTC());
        Files.writeString(directory.resolve("ca.pub"), broker.caPublicKey() + "\n");
        sshd = OpenSsh.start(directory, directory.resolve("ca.pub"), directory.resolve("revoked"));
    }

    @AfterAll
    static void stop() {
        if (sshd != null) {
            sshd.close();
        }
    }

    private record Issued(LeaseGrant lease, Granted granted, Path key, Path certificate) {
    }

    private static Issued issue(String keyType, Duration ttl, Set<String> principals, Optional<List<String>> addresses,
                                Optional<String> command) throws Exception {
        Path key = OpenSsh.newKey(directory, keyType);
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        LeaseGrant lease = new LeaseGrant(LeaseId.random(), "ssh", HOLDER, Optional.empty(), "prod-hosts", now,
                now.plus(ttl), List.of(), Decision.Obligations.none().withSsh(Optional.of(principals), addresses, command),
                Map.of("public_key", OpenSsh.publicKeyLine(key)));
        broker.check(lease.resource(), lease.parameters());
        Granted granted = broker.grant(lease);
        Path certificate = OpenSsh.writeCertificate(key, granted.secret().revealToHolder().get("certificate"));
        return new Issued(lease, granted, key, certificate);
    }

    private static Issued issue(String keyType) throws Exception {
        return issue(keyType, Duration.ofMinutes(5), Set.of(OpenSsh.USER), Optional.empty(), Optional.empty());
    }

    @Test
    void certificateLogsInBeforeExpiryAndIsRefusedAfter() throws Exception {
        Issued issued = issue("ed25519", Duration.ofSeconds(3), Set.of(OpenSsh.USER), Optional.empty(), Optional.empty());
        assertThat(sshd.login(issued.key(), issued.certificate(), "true").succeeded()).as("before expiry").isTrue();

        Thread.sleep(Math.max(0, Duration.between(Instant.now(), issued.lease().expiresAt()).toMillis()) + 1500);

        assertThat(sshd.login(issued.key(), issued.certificate(), "true").succeeded()).as("after expiry").isFalse();
        assertThat(sshd.log()).contains("expired");
    }

    @Test
    void sshKeygenShowsKeyIdSerialPrincipalsValidityAndOptions() throws Exception {
        Issued issued = issue("ed25519", Duration.ofMinutes(10), Set.of(OpenSsh.USER, "deploy"),
                Optional.of(List.of("127.0.0.1/32", "10.0.0.0/8")), Optional.of("/usr/bin/uptime"));

        String description = OpenSsh.describe(issued.certificate());

        String from = issued.lease().issuedAt().minus(SshBroker.CLOCK_SKEW).toString().replace("Z", "");
        String to = issued.lease().expiresAt().toString().replace("Z", "");
        assertThat(description)
                .contains("Type: ssh-ed25519-cert-v01@openssh.com user certificate")
                .contains("Signing CA: ECDSA " + issued.granted().details().get("ca_fingerprint") + " (using ecdsa-sha2-nistp256)")
                .contains("Key ID: \"" + HOLDER + " lease=" + issued.lease().id() + "\"")
                .contains("Serial: " + Long.toUnsignedString(SshBroker.serial(issued.lease().id())))
                .contains("Valid: from " + from + " to " + to)
                .containsPattern("Principals: \\n\\s+deploy\\n\\s+" + OpenSsh.USER + "\\n")
                .containsPattern("force-command /usr/bin/uptime\\n\\s+source-address 127.0.0.1/32,10.0.0.0/8")
                .containsPattern("Extensions: \\n\\s+permit-pty\\n");
        assertThat(issued.granted().details()).containsEntry("principals", "deploy," + OpenSsh.USER)
                .containsEntry("valid_before", issued.lease().expiresAt().toString())
                .containsEntry("public_key_fingerprint", description.lines()
                        .filter(l -> l.contains("Public key:")).findFirst().orElseThrow().replaceAll(".* ", ""));
    }

    @Test
    void forceCommandRunsInsteadOfTheRequestedOne() throws Exception {
        Issued issued = issue("ed25519", Duration.ofMinutes(5), Set.of(OpenSsh.USER), Optional.empty(),
                Optional.of("echo forced-by-policy"));

        OpenSsh.Login login = sshd.login(issued.key(), issued.certificate(), "echo requested");

        assertThat(login.succeeded()).isTrue();
        assertThat(login.output()).contains("forced-by-policy").doesNotContain("requested");
    }

    @Test
    void loginFromOutsideTheSourceAddressesIsRefused() throws Exception {
        Issued inside = issue("ed25519", Duration.ofMinutes(5), Set.of(OpenSsh.USER),
                Optional.of(List.of("127.0.0.0/8")), Optional.empty());
        Issued outside = issue("ed25519", Duration.ofMinutes(5), Set.of(OpenSsh.USER),
                Optional.of(List.of("10.0.0.0/8")), Optional.empty());

        assertThat(sshd.login(inside.key(), inside.certificate(), "true").succeeded()).isTrue();
        assertThat(sshd.login(outside.key(), outside.certificate(), "true").succeeded()).isFalse();
    }

    @Test
    void principalOtherThanTheLoginUserIsRefused() throws Exception {
        Issued issued = issue("ed25519", Duration.ofMinutes(5), Set.of("somebody-else"), Optional.empty(), Optional.empty());

        assertThat(sshd.login(issued.key(), issued.certificate(), "true").succeeded()).isFalse();
    }

    @Test
    void ecdsaAndRsaWorkloadKeysLogIn() throws Exception {
        for (String type : List.of("ecdsa", "rsa")) {
            Issued issued = issue(type);
            assertThat(sshd.login(issued.key(), issued.certificate(), "true").succeeded()).as(type).isTrue();
        }
    }

    @Test
    void revokedCertificateIsRefusedAndItsKeyCannotBeCertifiedAgain() throws Exception {
        Issued issued = issue("ecdsa");
        assertThat(sshd.login(issued.key(), issued.certificate(), "true").succeeded()).isTrue();

        broker.revoke(issued.lease());

        assertThat(sshd.login(issued.key(), issued.certificate(), "true").succeeded()).isFalse();
        assertThat(Files.readString(directory.resolve("revoked")))
                .contains("sigil-lease=" + issued.lease().id() + " expires=" + issued.lease().expiresAt().getEpochSecond());
        LeaseGrant again = new LeaseGrant(LeaseId.random(), "ssh", HOLDER, Optional.empty(), "prod-hosts",
                Instant.now(), Instant.now().plusSeconds(60), List.of(), issued.lease().obligations(), issued.lease().parameters());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> broker.grant(again))
                .hasMessageContaining("is listed as revoked").hasMessageContaining("SHA256:");
    }
}
