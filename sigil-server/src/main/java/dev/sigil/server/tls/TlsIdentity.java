package dev.sigil.server.tls;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * One consistent snapshot of what a TLS listener presents: a certificate chain (leaf first) and the
 * leaf's private key. The key may be a provider handle (HSM, ACCP) whose bytes are never exportable;
 * it is only ever handed to the JSSE engine. {@link #toString()} never prints key material.
 */
public record TlsIdentity(List<X509Certificate> chain, PrivateKey privateKey) {
    public TlsIdentity {
        Objects.requireNonNull(chain, "chain");
        Objects.requireNonNull(privateKey, "privateKey");
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a tls identity needs at least one certificate; the chain is empty");
        }
        String keyAlgorithm = privateKey.getAlgorithm();
        String certAlgorithm = chain.get(0).getPublicKey().getAlgorithm();
        if (!sameFamily(keyAlgorithm, certAlgorithm)) {
            throw new IllegalArgumentException("private key algorithm " + keyAlgorithm
                    + " does not match the certificate's public key algorithm " + certAlgorithm);
        }
    }

    public X509Certificate leaf() {
        return chain.get(0);
    }

    private static boolean sameFamily(String a, String b) {
        return normalize(a).equals(normalize(b));
    }

    private static String normalize(String algorithm) {
        return switch (algorithm) {
            case "ECDSA" -> "EC";
            default -> algorithm;
        };
    }

    @Override
    public String toString() {
        X509Certificate leaf = leaf();
        return "TlsIdentity[subject=" + leaf.getSubjectX500Principal().getName() + ", serial="
                + leaf.getSerialNumber().toString(16) + ", notAfter=" + leaf.getNotAfter().toInstant()
                + ", chain=" + chain.size() + ", key=<" + privateKey.getAlgorithm() + " handle>]";
    }
}
