package dev.sigil.server.credential.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.server.credential.Broker;
import dev.sigil.server.credential.BrokerContract;
import dev.sigil.server.credential.Granted;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.keys.KeyManager;
import dev.sigil.server.keys.KeyManagers;
import dev.sigil.server.policy.Decision;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The shared broker contract against a real sshd: "works" means an ssh login with the certificate succeeds. */
class SshBrokerTest extends BrokerContract {
    @TempDir
    static Path directory;
    private static final KeyManager KEYS = KeyManagers.memory();
    private static final Map<String, Path> PRIVATE_KEYS = new ConcurrentHashMap<>();
    private static OpenSsh sshd;

    @BeforeAll
    static void startSshd() throws Exception {
        OpenSsh.assumeAvailable();
        sshd = OpenSsh.start(directory, directory.resolve("trusted_user_ca_keys"), directory.resolve("revoked_keys"));
    }

    @AfterAll
    static void stopSshd() {
        if (sshd != null) {
            sshd.close();
        }
    }

    @Override
    protected Broker newBroker() throws Exception {
        SshBroker ssh = SshBroker.create(new SshBrokerSettings(Set.of("test-hosts"),
                Optional.of(directory.resolve("revoked_keys"))), KEYS, Clock.systemUTC());
        Files.writeString(directory.resolve("trusted_user_ca_keys"), ssh.caPublicKey() + "\n");
        return ssh;
    }

    @Override
    protected String resource() {
        return "test-hosts";
    }

    @Override
    protected String unknownResource() {
        return "other-hosts";
    }

    @Override
    protected Map<String, String> parameters() throws Exception {
        Path key = OpenSsh.newKey(directory, "ed25519");
        String line = OpenSsh.publicKeyLine(key);
        PRIVATE_KEYS.put(line, key);
        return Map.of("public_key", line);
    }

    /** The contract's lease, with the principal policy must grant: the user sshd runs as. */
    @Override
    protected LeaseGrant lease(Duration ttl) throws Exception {
        LeaseGrant lease = super.lease(ttl);
        Decision.Obligations obligations = Decision.Obligations.none()
                .withSsh(Optional.of(Set.of(OpenSsh.USER)), Optional.empty(), Optional.empty());
        return new LeaseGrant(lease.id(), lease.broker(), lease.holder(), lease.task(), lease.resource(),
                lease.issuedAt(), lease.expiresAt(), lease.delegation(), obligations, lease.parameters());
    }

    @Override
    protected boolean credentialWorks(LeaseGrant lease, Granted granted) throws Exception {
        Path key = PRIVATE_KEYS.get(lease.parameters().get("public_key"));
        Path certificate = OpenSsh.writeCertificate(key, granted.secret().revealToHolder().get("certificate"));
        OpenSsh.Login login = sshd.login(key, certificate, "true");
        assertThat(login.output()).as("ssh output").doesNotContain("Connection refused");
        return login.succeeded();
    }

    @Override
    protected boolean renewable() {
        return false;
    }

    @Override
    protected boolean listable() {
        return false;
    }
}
