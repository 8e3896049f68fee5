package dev.sigil.server.authority;

import dev.sigil.core.crypto.Pem;
import dev.sigil.core.SigilException;
import dev.sigil.server.keys.FileSigner;
import dev.sigil.server.keys.Signer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * An operator-supplied CA that signs Sigil's X.509 CA, making it an intermediate. SVID chains then
 * carry Sigil's intermediate plus {@link #intermediates()}, and the bundle carries
 * {@link #trustAnchor()} instead of a Sigil root.
 *
 * @param chain  the upstream chain: the certificate of {@code signer} first, its issuers after it, the
 *               trust anchor last (a single self-signed root is a chain of one)
 * @param signer signs with the private key of {@code chain.get(0)}
 */
public record UpstreamCa(List<X509Certificate> chain, Signer signer) {
    public UpstreamCa {
        chain = List.copyOf(chain);
        Objects.requireNonNull(signer, "signer");
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("upstream ca chain is empty; give at least the upstream ca certificate");
        }
        X509Certificate signing = chain.get(0);
        String subject = signing.getSubjectX500Principal().getName();
        if (!Arrays.equals(signing.getPublicKey().getEncoded(), signer.publicKey().getEncoded())) {
            throw new IllegalArgumentException("upstream ca private key " + signer + " does not belong to certificate '" + subject + "'");
        }
        if (signing.getBasicConstraints() < 0) {
            throw new IllegalArgumentException("upstream certificate '" + subject + "' is not a ca (basicConstraints ca=false)");
        }
        boolean[] usage = signing.getKeyUsage();
        if (usage != null && (usage.length <= 5 || !usage[5])) {
            throw new IllegalArgumentException("upstream certificate '" + subject + "' lacks the keyCertSign key usage");
        }
    }

    /**
     * Reads the upstream chain (PEM, signing certificate first) and its private key (PEM: PKCS#8,
     * SEC1 or PKCS#1).
     *
     * @throws SigilException naming the file that is missing, malformed or does not match
     */
    public static UpstreamCa load(Path certificates, Path privateKey) {
        String pem;
        try {
            pem = Files.readString(certificates, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new AuthorityException("cannot read upstream ca certificates " + certificates + ": " + e, e);
        }
        List<X509Certificate> chain = Pem.parseCertificates(pem, "upstream ca certificate file " + certificates);
        try {
            return new UpstreamCa(chain, FileSigner.load(privateKey));
        } catch (IllegalArgumentException e) {
            throw new AuthorityException(e.getMessage() + " (files " + certificates + " and " + privateKey + ")", e);
        }
    }

    public X509Certificate signingCertificate() {
        return chain.get(0);
    }

    /** The certificate the bundle carries: the last of the chain. */
    public X509Certificate trustAnchor() {
        return chain.get(chain.size() - 1);
    }

    /** Upstream certificates sent in SVID chains after Sigil's intermediate: the chain without its anchor. */
    public List<X509Certificate> intermediates() {
        return chain.subList(0, chain.size() - 1);
    }

    /** The earliest expiry in the chain; an intermediate signed by it must not outlive it. */
    public Instant notAfter() {
        return chain.stream().map(certificate -> certificate.getNotAfter().toInstant()).min(Instant::compareTo).orElseThrow();
    }

    @Override
    public String toString() {
        return "UpstreamCa[" + signingCertificate().getSubjectX500Principal().getName() + ", " + signer + "]";
    }
}
