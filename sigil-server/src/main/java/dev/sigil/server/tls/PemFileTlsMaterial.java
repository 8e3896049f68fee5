package dev.sigil.server.tls;

import dev.sigil.core.crypto.PemPrivateKeys;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS material from PEM files (the bundle endpoint's https_web profile). The files are re-read when
 * their modification time changes; a renewal that fails to load (half-written file, mismatched key)
 * is logged and the previous identity stays in service.
 */
final class PemFileTlsMaterial implements TlsMaterial {
    private static final Logger LOG = LoggerFactory.getLogger(PemFileTlsMaterial.class);

    private final Path certFile;
    private final Path keyFile;
    private volatile Loaded loaded;

    private record Loaded(TlsIdentity identity, FileTime certTime, FileTime keyTime) {
    }

    PemFileTlsMaterial(Path certFile, Path keyFile) {
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.loaded = load();
    }

    @Override
    public TlsIdentity current() {
        Loaded current = loaded;
        try {
            if (!Files.getLastModifiedTime(certFile).equals(current.certTime())
                    || !Files.getLastModifiedTime(keyFile).equals(current.keyTime())) {
                synchronized (this) {
                    if (loaded == current) {
                        loaded = load();
                        LOG.info("reloaded tls certificate from {}: {}", certFile, loaded.identity());
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("keeping the previous tls certificate; cannot reload {} / {}: {}", certFile, keyFile, e.getMessage());
        }
        return loaded.identity();
    }

    private Loaded load() {
        try {
            FileTime certTime = Files.getLastModifiedTime(certFile);
            FileTime keyTime = Files.getLastModifiedTime(keyFile);
            List<X509Certificate> chain = readChain(certFile);
            PrivateKey key = readKey(keyFile);
            TlsIdentity identity = new TlsIdentity(chain, key);
            checkKeyMatches(identity);
            return new Loaded(identity, certTime, keyTime);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read tls files " + certFile + " and " + keyFile + ": " + e.getMessage(), e);
        }
    }

    static List<X509Certificate> readChain(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            List<X509Certificate> chain = new ArrayList<>();
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                chain.add((X509Certificate) certificate);
            }
            if (chain.isEmpty()) {
                throw new IllegalArgumentException("cert_file " + file + " holds no pem certificate");
            }
            return chain;
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cert_file " + file + " is not a pem certificate chain: " + e.getMessage(), e);
        }
    }

    static PrivateKey readKey(Path file) throws IOException {
        return PemPrivateKeys.read(file).orElseThrow(() -> new IllegalArgumentException("key_file " + file
                + " holds no unencrypted pem private key; expected PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY"));
    }

    private void checkKeyMatches(TlsIdentity identity) {
        boolean ec = "EC".equals(identity.privateKey().getAlgorithm());
        String algorithm = ec ? "SHA256withECDSA" : "SHA256withRSA";
        try {
            byte[] probe = "sigil-key-match-probe".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(identity.privateKey());
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(identity.leaf().getPublicKey());
            verifier.update(probe);
            if (!verifier.verify(signature)) {
                throw new IllegalArgumentException("key_file " + keyFile + " does not match the certificate in " + certFile);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("key_file " + keyFile + " does not match the certificate in " + certFile
                    + ": " + e.getMessage(), e);
        }
    }
}
