package dev.sigil.server.credential.ssh;

import dev.sigil.core.crypto.KeyType;
import dev.sigil.server.credential.Broker;
import dev.sigil.server.credential.BrokerException;
import dev.sigil.server.credential.CredentialSecret;
import dev.sigil.server.credential.Granted;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.keys.KeyHandle;
import dev.sigil.server.keys.KeyManager;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code ssh} broker: a lease is an OpenSSH user certificate for the workload's own public key,
 * signed by Sigil's SSH user CA (key {@value #CA_KEY_ID} in the key manager, {@code ec-p256}, created
 * on first use and reused after a restart with a persistent key manager).
 *
 * <p>Security properties:
 * <ul>
 *   <li>The certificate's validity ends at the lease's {@code expiresAt}; sshd enforces it, so a Sigil
 *       outage never extends access. It starts {@link #CLOCK_SKEW} before {@code issuedAt} to absorb
 *       clock skew between Sigil and the hosts.</li>
 *   <li>Principals come only from the policy's {@code ssh_principals} obligation; a grant without
 *       principals is refused, since a certificate without principals is valid for every user.
 *       {@code source_address} and {@code force_command} obligations become the certificate's critical
 *       options. The only extension is {@code permit-pty}.</li>
 *   <li>Key id {@code <holder SPIFFE ID> lease=<lease id>} (in sshd's log on every login); serial = the
 *       first 8 bytes of SHA-256 of the lease id, so both lead back to the lease.</li>
 *   <li>Certificates cannot be extended: {@link #renew} is rejected. {@link #revoke} lists the workload
 *       key in the {@code RevokedKeys} file when one is configured; without one a certificate cannot be
 *       recalled and ends at its validity.</li>
 *   <li>The workload's private key never reaches Sigil; the certificate is not a secret on its own,
 *       but is treated as one (leak reports map its base64 blob to the lease).</li>
 * </ul>
 */
public final class SshBroker implements Broker {
    /** The key manager id of the SSH user CA key. */
    public static final String CA_KEY_ID = "ssh-user-ca";
    /** How long before {@code issuedAt} a certificate becomes valid. */
    static final Duration CLOCK_SKEW = Duration.ofSeconds(60);
    static final String PUBLIC_KEY = "public_key";
    private static final String CERT_SUFFIX = "-cert-v01@openssh.com";

    /** The name of the user CA line in {@link #publicMaterial()}. */
    public static final String SSH_USER_CA = "ssh_user_ca";
    private final SshBrokerSettings settings;
    private final SshCa ca;
    private final Optional<RevokedKeysFile> revokedKeys;
    private final String caPublicKey;
    /** Certificate nonces: an in-process DRBG (no system call per certificate), seeded by the system. */
    private final SecureRandom random = drbg();

    private SshBroker(SshBrokerSettings settings, SshCa ca, Optional<RevokedKeysFile> revokedKeys) {
        this.settings = settings;
        this.ca = ca;
        this.revokedKeys = revokedKeys;
        this.caPublicKey = ca.publicKeyLine("sigil-ssh-user-ca");
    }

    /**
     * A broker signing with the CA key {@value #CA_KEY_ID} of {@code keys}, generated as {@code ec-p256}
     * when absent. Creates the revoked keys file (empty, 0644) when configured and missing, since sshd
     * refuses every key while its {@code RevokedKeys} file does not exist.
     *
     * @throws BrokerException.Unavailable when the revoked keys file cannot be read or created
     */
    public static SshBroker create(SshBrokerSettings settings, KeyManager keys, Clock clock) {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(keys, "keys");
        Objects.requireNonNull(clock, "clock");
        KeyHandle key = keys.find(CA_KEY_ID).orElseGet(() -> keys.generate(CA_KEY_ID, KeyType.EC_P256));
        Optional<RevokedKeysFile> revoked = settings.revokedKeysFile().map(path -> RevokedKeysFile.open(path, clock));
        return new SshBroker(settings, new SshCa(key), revoked);
    }

    private static SecureRandom drbg() {
        try {
            return SecureRandom.getInstance("DRBG");
        } catch (java.security.NoSuchAlgorithmException e) {
            return new SecureRandom();
        }
    }

    @Override
    public String type() {
        return "ssh";
    }

    /** The CA public key line for sshd's {@code TrustedUserCAKeys}. */
    public String caPublicKey() {
        return caPublicKey;
    }

    @Override
    public Map<String, String> publicMaterial() {
        return Map.of(SSH_USER_CA, caPublicKey);
    }

    @Override
    public void check(String resource, Map<String, String> parameters) {
        publicKey(resource, parameters);
    }

    private SshPublicKey publicKey(String resource, Map<String, String> parameters) {
        if (!settings.resources().contains(resource)) {
            throw new BrokerException.Rejected("ssh resource '" + resource + "' is not configured; known: "
                    + new TreeSet<>(settings.resources()));
        }
        for (String name : parameters.keySet()) {
            if (!name.equals(PUBLIC_KEY)) {
                throw new BrokerException.Rejected("ssh parameter '" + name + "' is unknown; the only parameter is "
                        + PUBLIC_KEY);
            }
        }
        try {
            return SshPublicKey.parse(parameters.get(PUBLIC_KEY));
        } catch (IllegalArgumentException e) {
            throw new BrokerException.Rejected(e.getMessage());
        }
    }

    @Override
    public Granted grant(LeaseGrant lease) {
        SshPublicKey key = publicKey(lease.resource(), lease.parameters());
        var obligations = lease.obligations();
        Set<String> principals = obligations.sshPrincipals().orElse(Set.of());
        if (principals.isEmpty()) {
            throw new BrokerException.Rejected("policy grants no ssh principals for " + lease.holder() + " on '"
                    + lease.resource() + "'; a certificate without principals would be valid for every user, so none"
                    + " is issued (add obligations.ssh_principals to the allow rule)");
        }
        if (obligations.sourceAddresses().filter(List::isEmpty).isPresent()) {
            throw new BrokerException.Rejected("policy's source_address obligations of the matching rules do not"
                    + " overlap; no address may use a certificate, so none is issued");
        }
        if (revokedKeys.isPresent() && revokedKeys.get().isRevoked(key)) {
            throw new BrokerException.Rejected("public key " + key.fingerprint() + " is listed as revoked; generate a"
                    + " new key pair for each certificate");
        }
        String keyId = lease.holder() + " lease=" + lease.id();
        long serial = serial(lease.id());
        UserCertificate certificate = new UserCertificate(key, serial, keyId, List.copyOf(new TreeSet<>(principals)),
                lease.issuedAt().minus(CLOCK_SKEW), lease.expiresAt(), obligations.sourceAddresses(),
                obligations.forceCommand());
        byte[] nonce = new byte[32];
        random.nextBytes(nonce);
        String blob = Base64.getEncoder().encodeToString(certificate.encode(ca, nonce));

        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("certificate", key.certificateType() + " " + blob + " " + keyId);
        fields.put("ca_public_key", caPublicKey());
        Map<String, String> details = new LinkedHashMap<>();
        details.put("key_id", keyId);
        details.put("serial", Long.toUnsignedString(serial));
        details.put("principals", String.join(",", certificate.principals()));
        details.put("valid_after", certificate.validAfter().toString());
        details.put("valid_before", certificate.validBefore().toString());
        details.put("public_key_fingerprint", key.fingerprint());
        details.put("ca_fingerprint", ca.fingerprint());
        obligations.sourceAddresses().ifPresent(blocks -> details.put("source_address", String.join(",", blocks)));
        obligations.forceCommand().ifPresent(command -> details.put("force_command", command));
        return new Granted(new CredentialSecret(fields, blob), details);
    }

    /** The first 8 bytes of SHA-256 of the lease id, as an unsigned 64-bit certificate serial. */
    static long serial(LeaseId lease) {
        byte[] digest = SshPublicKey.sha256(lease.value().getBytes(StandardCharsets.US_ASCII));
        long serial = 0;
        for (int i = 0; i < 8; i++) {
            serial = (serial << 8) | (digest[i] & 0xff);
        }
        return serial;
    }

    /** Always rejected: a signed certificate's validity cannot change. */
    @Override
    public void renew(LeaseGrant lease, Instant newExpiry) {
        throw new BrokerException.Rejected("ssh certificate of lease " + lease.id() + " cannot be extended; request a new certificate");
    }

    /**
     * Lists the lease's workload key in the revoked keys file until the certificate's expiry; without
     * a file, does nothing (the certificate ends at its validity). Idempotent; a lease whose public key
     * never passed {@link #check} had nothing granted and succeeds at once.
     */
    @Override
    public void revoke(LeaseGrant lease) {
        if (revokedKeys.isEmpty()) {
            return;
        }
        SshPublicKey key;
        try {
            key = SshPublicKey.parse(lease.parameters().get(PUBLIC_KEY));
        } catch (IllegalArgumentException e) {
            return;
        }
        revokedKeys.get().revoke(key, lease.id(), lease.expiresAt());
    }

    /** Issued certificates cannot be listed. */
    @Override
    public Optional<Set<LeaseId>> granted() {
        return Optional.empty();
    }

    /** A pasted certificate line ({@code type base64 [comment]}) or bare base64 to the certificate's base64 blob. */
    /** A certificate is useless after its validity; nothing is left to revoke at expiry. */
    @Override
    public boolean expiresByItself() {
        return true;
    }

    @Override
    public Optional<String> leakKey(String reported) {
        if (reported == null || reported.length() > 64 * 1024) {
            return Optional.empty();
        }
        for (String token : SshPublicKey.WHITESPACE.split(reported.strip())) {
            byte[] blob;
            try {
                blob = Base64.getDecoder().decode(token);
                if (new SshWire.Reader(blob).utf8().endsWith(CERT_SUFFIX)) {
                    return Optional.of(Base64.getEncoder().encodeToString(blob));
                }
            } catch (IllegalArgumentException e) {
                // not base64, or not a blob: try the next token
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return "SshBroker[ca=" + ca.fingerprint() + ", resources=" + new TreeSet<>(settings.resources()) + "]";
    }
}
