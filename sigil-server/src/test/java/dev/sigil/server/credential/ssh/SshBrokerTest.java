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
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

    /**
     * The certificate as sshd's own tooling reads it ({@code ssh-keygen -L}): signed by the CA sshd
     * trusts, for this lease's key id and principal, valid from the lease's issue to its expiry; and its
     * key not in the revoked keys file.
     */
    @Override
    protected boolean grantedInBackend(LeaseGrant lease, Granted granted) throws Exception {
        String description = OpenSsh.describe(certificate(lease, granted));
        String ca = OpenSsh.fingerprint(directory.resolve("trusted_user_ca_keys"));
        assertThat(description).as("ssh-keygen -L of the certificate")
                .contains("Signing CA: ECDSA " + ca + " ")
                .contains("Key ID: \"" + lease.holder() + " lease=" + lease.id() + "\"")
                .containsPattern("Principals: \\n\\s+" + OpenSsh.USER + "\\n")
                .contains("Valid: from " + utc(lease.issuedAt().minus(SshBroker.CLOCK_SKEW)) + " to " + utc(lease.expiresAt()));
        return !revokedInBackend(lease);
    }

    /** sshd's revoked keys file lists the lease's workload key (sshd then refuses any certificate for it). */
    @Override
    protected boolean revokedInBackend(LeaseGrant lease) throws Exception {
        String key = keyOf(lease.parameters().get("public_key"));
        return Files.readAllLines(directory.resolve("revoked_keys")).stream().anyMatch(line -> keyOf(line).equals(key));
    }

    /** The certificate's valid-before, as {@code ssh-keygen -L} prints it. */
    @Override
    protected Instant expiryInBackend(LeaseGrant lease, Granted granted) throws Exception {
        Matcher valid = Pattern.compile("Valid: from \\S+ to (\\S+)\\n").matcher(OpenSsh.describe(certificate(lease, granted)));
        assertThat(valid.find()).as("validity in ssh-keygen -L").isTrue();
        return LocalDateTime.parse(valid.group(1)).toInstant(ZoneOffset.UTC);
    }

    @Override
    protected boolean renewable() {
        return false;
    }

    @Override
    protected boolean listable() {
        return false;
    }

    private static Path certificate(LeaseGrant lease, Granted granted) throws Exception {
        Path key = PRIVATE_KEYS.get(lease.parameters().get("public_key"));
        return OpenSsh.writeCertificate(key, granted.secret().revealToHolder().get("certificate"));
    }

    /** {@code <type> <base64>} of an authorized_keys-style line, without its comment. */
    private static String keyOf(String line) {
        String[] fields = line.strip().split("\\s+");
        return fields.length >= 2 ? fields[0] + " " + fields[1] : line.strip();
    }

    /** An instant as ssh-keygen prints it with TZ=UTC. */
    private static String utc(Instant instant) {
        return instant.toString().replace("Z", "");
    }
}
