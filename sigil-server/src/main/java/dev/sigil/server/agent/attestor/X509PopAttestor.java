package dev.sigil.server.agent.attestor;

import dev.sigil.core.crypto.Pem;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.TrustDomain;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXCertPathValidatorResult;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * {@code x509pop}: X.509 proof of possession. The node holds a certificate issued by one of the node
 * CAs configured on the server, and its private key.
 *
 * <p>Flow and guarantees: the evidence is the node's certificate chain (concatenated DER, leaf first).
 * It must validate (PKIX, at the injected clock's time) to one of the configured CAs and its leaf must
 * allow digitalSignature; otherwise the attempt is refused without a challenge. The server then sends
 * a fresh 32-byte random nonce; the agent answers with a signature over {@code nonce || }
 * {@value #DOMAIN_SEPARATOR} made with the leaf's key, verified with the leaf's public key. A nonce is
 * answerable once, so a recorded answer is useless for any later attempt (replay), and the domain
 * separation string keeps the signature from being valid for any other protocol.
 *
 * <p>Result: agent ID {@code spiffe://<td>/sigil/agent/x509pop/<sha-256 of the leaf, hex>}; selectors
 * {@code x509pop:subject:cn:<cn>}, {@code x509pop:ca:fingerprint:<sha-256 of the issuing ca>},
 * {@code x509pop:san:dns:<name>}, {@code x509pop:san:uri:<uri>}, {@code x509pop:fingerprint:<leaf>};
 * trust level 2 (cryptographic evidence bound to a key).
 */
public final class X509PopAttestor implements NodeAttestor {
    public static final String TYPE = "x509pop";
    /** Appended to the nonce before signing; must equal the agent side's. */
    public static final String DOMAIN_SEPARATOR = "sigil-x509pop-challenge-v1";
    static final int NONCE_BYTES = 32;
    private static final int MAX_EVIDENCE_BYTES = 64 * 1024;
    private static final int SAN_DNS = 2;
    private static final int SAN_URI = 6;

    private final TrustDomain trustDomain;
    private final List<X509Certificate> trustedCas;
    private final Clock clock;
    private final SecureRandom random;

    public X509PopAttestor(TrustDomain trustDomain, Collection<X509Certificate> trustedCas, Clock clock, SecureRandom random) {
        this.trustDomain = Objects.requireNonNull(trustDomain, "trustDomain");
        this.trustedCas = List.copyOf(trustedCas);
        if (this.trustedCas.isEmpty()) {
            throw new IllegalArgumentException("x509pop needs at least one trusted node ca certificate");
        }
        this.clock = Objects.requireNonNull(clock, "clock");
        this.random = Objects.requireNonNull(random, "random");
    }

    /** An attestor trusting the node CAs in a PEM bundle file. */
    public static X509PopAttestor fromBundleFile(TrustDomain trustDomain, Path caBundle, Clock clock) {
        String pem;
        try {
            pem = Files.readString(caBundle, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read x509pop ca bundle " + caBundle + ": " + e.getMessage(), e);
        }
        return new X509PopAttestor(trustDomain, Pem.parseCertificates(pem, "x509pop ca bundle " + caBundle), clock, new SecureRandom());
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public AttestationStep begin(byte[] evidence, String actor) {
        if (evidence == null || evidence.length == 0 || evidence.length > MAX_EVIDENCE_BYTES) {
            return new AttestationStep.Malformed("x509pop evidence is " + (evidence == null ? 0 : evidence.length)
                    + " bytes; expected a der certificate chain of 1 to " + MAX_EVIDENCE_BYTES + " bytes");
        }
        List<X509Certificate> chain;
        try {
            chain = new ArrayList<>();
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(evidence))) {
                chain.add((X509Certificate) certificate);
            }
        } catch (GeneralSecurityException | RuntimeException e) {
            return new AttestationStep.Malformed("x509pop evidence is not a der certificate chain: " + e.getMessage());
        }
        if (chain.isEmpty()) {
            return new AttestationStep.Malformed("x509pop evidence holds no certificate; expected the node's chain, leaf first");
        }
        X509Certificate leaf = chain.get(0);
        X509Certificate issuer;
        try {
            issuer = validate(chain);
        } catch (GeneralSecurityException | RuntimeException e) {
            return new AttestationStep.Refused("x509pop certificate " + subjectOf(leaf)
                    + " does not chain to a trusted node ca at " + clock.instant() + ": " + e.getMessage());
        }
        boolean[] usage = leaf.getKeyUsage();
        if (usage == null || !usage[0]) {
            return new AttestationStep.Refused("x509pop certificate " + subjectOf(leaf) + " does not allow digitalSignature");
        }
        byte[] nonce = new byte[NONCE_BYTES];
        random.nextBytes(nonce);
        AtomicBoolean answered = new AtomicBoolean();
        return new AttestationStep.Challenge(nonce, response -> {
            if (!answered.compareAndSet(false, true)) {
                return new AttestationStep.Refused("x509pop challenge was already answered");
            }
            return verify(leaf, issuer, nonce, response);
        });
    }

    private AttestationStep verify(X509Certificate leaf, X509Certificate issuer, byte[] nonce, byte[] response) {
        PublicKey key = leaf.getPublicKey();
        try {
            Signature verifier = Signature.getInstance(signatureAlgorithm(key));
            verifier.initVerify(key);
            verifier.update(signedBytes(nonce));
            if (!verifier.verify(response)) {
                return new AttestationStep.Refused("x509pop challenge signature does not verify with the key of " + subjectOf(leaf));
            }
        } catch (GeneralSecurityException | RuntimeException e) {
            return new AttestationStep.Refused("x509pop challenge signature does not verify with the key of " + subjectOf(leaf)
                    + ": " + e.getMessage());
        }
        String leafPrint = fingerprint(leaf);
        List<Selector> selectors = new ArrayList<>();
        selectors.add(Selector.of(TYPE, "fingerprint:" + leafPrint));
        selectors.add(Selector.of(TYPE, "ca:fingerprint:" + fingerprint(issuer)));
        commonName(leaf).ifPresent(cn -> selectors.add(Selector.of(TYPE, "subject:cn:" + cn)));
        try {
            Collection<List<?>> names = leaf.getSubjectAlternativeNames();
            if (names != null) {
                for (List<?> name : names) {
                    if (SAN_DNS == (Integer) name.get(0)) {
                        selectors.add(Selector.of(TYPE, "san:dns:" + name.get(1)));
                    } else if (SAN_URI == (Integer) name.get(0)) {
                        selectors.add(Selector.of(TYPE, "san:uri:" + name.get(1)));
                    }
                }
            }
        } catch (GeneralSecurityException | RuntimeException e) {
            return new AttestationStep.Malformed("x509pop certificate " + subjectOf(leaf) + " has unreadable san: " + e.getMessage());
        }
        return new AttestationStep.Attested(trustDomain.id("/sigil/agent/" + TYPE + "/" + leafPrint), selectors, 2);
    }

    /** Validates the chain and returns the certificate that issued the leaf (a chain member or a trusted ca). */
    private X509Certificate validate(List<X509Certificate> chain) throws GeneralSecurityException {
        Set<TrustAnchor> anchors = new HashSet<>();
        for (X509Certificate ca : trustedCas) {
            anchors.add(new TrustAnchor(ca, null));
        }
        List<X509Certificate> path = new ArrayList<>(chain);
        while (path.size() > 1 && trustedCas.contains(path.get(path.size() - 1))) {
            path.remove(path.size() - 1);
        }
        PKIXParameters parameters = new PKIXParameters(anchors);
        parameters.setRevocationEnabled(false);
        parameters.setDate(Date.from(clock.instant()));
        PKIXCertPathValidatorResult result = (PKIXCertPathValidatorResult) CertPathValidator.getInstance("PKIX")
                .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), parameters);
        return path.size() > 1 ? path.get(1) : result.getTrustAnchor().getTrustedCert();
    }

    /** What the agent signs: the nonce followed by the domain separation string. */
    public static byte[] signedBytes(byte[] nonce) {
        byte[] suffix = DOMAIN_SEPARATOR.getBytes(StandardCharsets.US_ASCII);
        byte[] message = new byte[nonce.length + suffix.length];
        System.arraycopy(nonce, 0, message, 0, nonce.length);
        System.arraycopy(suffix, 0, message, nonce.length, suffix.length);
        return message;
    }

    /** The signature algorithm for a node key: ECDSA with SHA-256, RSA PKCS#1 v1.5 with SHA-256, or Ed25519. */
    public static String signatureAlgorithm(PublicKey key) {
        return switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> throw new IllegalArgumentException("x509pop key algorithm " + key.getAlgorithm()
                    + " is not supported; use EC, RSA or Ed25519");
        };
    }

    static String fingerprint(X509Certificate certificate) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot fingerprint a certificate: " + e.getMessage(), e);
        }
    }

    private static java.util.Optional<String> commonName(X509Certificate certificate) {
        try {
            for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
                if ("CN".equalsIgnoreCase(rdn.getType()) && !String.valueOf(rdn.getValue()).isEmpty()) {
                    return java.util.Optional.of(String.valueOf(rdn.getValue()));
                }
            }
        } catch (InvalidNameException e) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.empty();
    }

    private static String subjectOf(X509Certificate certificate) {
        return "'" + certificate.getSubjectX500Principal().getName() + "'";
    }

    @Override
    public String toString() {
        return "X509PopAttestor[" + trustDomain + ", " + trustedCas.size() + " trusted node ca(s)]";
    }
}
