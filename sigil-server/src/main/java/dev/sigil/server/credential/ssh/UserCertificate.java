package dev.sigil.server.credential.ssh;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The fields of one OpenSSH user certificate (PROTOCOL.certkeys, {@code *-cert-v01@openssh.com},
 * type 1 = user). {@link #encode} lays them out in the order the format fixes, with critical options
 * and extensions sorted by name as it requires, and has the CA sign everything up to and including
 * the CA key.
 *
 * <p>Extensions: only {@code permit-pty}. Agent, port and X11 forwarding and user rc files are not
 * permitted, so a certificate opens a shell (or the forced command) and nothing else.
 *
 * @param serial          an unsigned 64-bit serial
 * @param principals      the user names the certificate is valid for; never empty (a certificate with
 *                        no principals is valid for any user)
 * @param sourceAddresses CIDR blocks the certificate may be used from ({@code source-address})
 * @param forceCommand    the command forced on login ({@code force-command})
 */
record UserCertificate(SshPublicKey key, long serial, String keyId, List<String> principals, Instant validAfter,
                       Instant validBefore, Optional<List<String>> sourceAddresses, Optional<String> forceCommand) {
    private static final int USER_CERT = 1;

    UserCertificate {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(keyId, "keyId");
        principals = List.copyOf(principals);
        if (principals.isEmpty()) {
            throw new IllegalArgumentException("a certificate without principals is valid for every user; refusing to build one");
        }
        if (!validBefore.isAfter(validAfter)) {
            throw new IllegalArgumentException("certificate valid before " + validBefore + " is not after valid after " + validAfter);
        }
        sourceAddresses = sourceAddresses.map(List::copyOf);
        if (sourceAddresses.isPresent() && sourceAddresses.get().isEmpty()) {
            throw new IllegalArgumentException("an empty source-address list would be refused by sshd");
        }
        Objects.requireNonNull(forceCommand, "forceCommand");
    }

    /** The signed certificate blob. {@code nonce} is fresh random bytes (16 or more). */
    byte[] encode(SshCa ca, byte[] nonce) {
        SshWire.Writer principalList = new SshWire.Writer();
        principals.forEach(principalList::string);
        // Critical options, sorted by name: force-command < source-address. Each value is a string
        // wrapped in the option's data string.
        SshWire.Writer critical = new SshWire.Writer();
        forceCommand.ifPresent(command -> critical.string("force-command")
                .string(new SshWire.Writer().string(command).toByteArray()));
        sourceAddresses.ifPresent(blocks -> critical.string("source-address")
                .string(new SshWire.Writer().string(String.join(",", blocks)).toByteArray()));
        SshWire.Writer extensions = new SshWire.Writer().string("permit-pty").string(new byte[0]);

        SshWire.Writer certificate = new SshWire.Writer()
                .string(key.certificateType())
                .string(nonce)
                .raw(key.fieldsAfterType())
                .uint64(serial)
                .uint32(USER_CERT)
                .string(keyId)
                .string(principalList.toByteArray())
                .uint64(validAfter.getEpochSecond())
                .uint64(validBefore.getEpochSecond())
                .string(critical.toByteArray())
                .string(extensions.toByteArray())
                .string(new byte[0]);
        ca.writePublicKeyBlob(certificate);
        byte[] signed = certificate.toByteArray();
        return new SshWire.Writer().raw(signed).string(ca.sign(signed)).toByteArray();
    }
}
