package dev.sigil.agent.attestor;

import dev.sigil.core.crypto.PemPrivateKeys;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Agent side of {@code x509pop}: presents the node's certificate chain and proves possession of its
 * key by signing each server nonce followed by {@value #DOMAIN_SEPARATOR}. The key never leaves this
 * object and is not shown by {@code toString()}.
 */
public final class X509PopAttestorClient implements NodeAttestorClient {
    public static final String TYPE = "x509pop";
    /** Appended to the nonce before signing; must equal the server side's. */
    public static final String DOMAIN_SEPARATOR = "sigil-x509pop-challenge-v1";
    private static final int MIN_NONCE_BYTES = 32;
    private static final int MAX_NONCE_BYTES = 1024;

    private final List<X509Certificate> chain;
    private final PrivateKey key;

    public X509PopAttestorClient(List<X509Certificate> chain, PrivateKey key) {
        this.chain = List.copyOf(chain);
        if (this.chain.isEmpty()) {
            throw new IllegalArgumentException("x509pop certificate chain is empty; give the node certificate, leaf first");
        }
        this.key = Objects.requireNonNull(key, "key");
    }

    /** Loads the chain (PEM, leaf first) and an unencrypted PEM private key (PKCS#8, SEC1 or PKCS#1). */
    public static X509PopAttestorClient load(Path certFile, Path keyFile) {
        List<X509Certificate> chain = new ArrayList<>();
        try (InputStream in = Files.newInputStream(certFile)) {
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                chain.add((X509Certificate) certificate);
            }
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read x509pop certificate file " + certFile + ": " + e.getMessage(), e);
        }
        PrivateKey key;
        try {
            key = PemPrivateKeys.read(keyFile).orElseThrow(() -> new IllegalArgumentException("x509pop key file " + keyFile
                    + " holds no unencrypted pem private key; expected PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY"));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read x509pop key file " + keyFile + ": " + e.getClass().getSimpleName(), e);
        }
        return new X509PopAttestorClient(chain, key);
    }

    @Override
    public String type() {
        return TYPE;
    }

    /** The earliest {@code notAfter} of the node's chain: after it the server refuses the evidence. */
    @Override
    public java.util.Optional<java.time.Instant> evidenceNotAfter() {
        return chain.stream().map(c -> c.getNotAfter().toInstant()).min(java.util.Comparator.naturalOrder());
    }

    @Override
    public byte[] evidence() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            for (X509Certificate certificate : chain) {
                out.write(certificate.getEncoded());
            }
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot encode the x509pop certificate chain: " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    @Override
    public byte[] respond(byte[] challenge) {
        if (challenge == null || challenge.length < MIN_NONCE_BYTES || challenge.length > MAX_NONCE_BYTES) {
            throw new IllegalArgumentException("x509pop challenge is " + (challenge == null ? 0 : challenge.length)
                    + " bytes; expected a nonce of " + MIN_NONCE_BYTES + " to " + MAX_NONCE_BYTES + " bytes");
        }
        byte[] suffix = DOMAIN_SEPARATOR.getBytes(StandardCharsets.US_ASCII);
        byte[] message = new byte[challenge.length + suffix.length];
        System.arraycopy(challenge, 0, message, 0, challenge.length);
        System.arraycopy(suffix, 0, message, challenge.length, suffix.length);
        try {
            Signature signer = Signature.getInstance(switch (key.getAlgorithm()) {
                case "EC", "ECDSA" -> "SHA256withECDSA";
                case "RSA" -> "SHA256withRSA";
                case "Ed25519", "EdDSA" -> "Ed25519";
                default -> throw new IllegalStateException("x509pop key algorithm " + key.getAlgorithm()
                        + " is not supported; use EC, RSA or Ed25519");
            });
            signer.initSign(key);
            signer.update(message);
            return signer.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign the x509pop challenge: " + e.getClass().getSimpleName(), e);
        }
    }

    @Override
    public String toString() {
        return "X509PopAttestorClient[subject=" + chain.get(0).getSubjectX500Principal().getName() + ", key=<"
                + key.getAlgorithm() + " redacted>]";
    }
}
