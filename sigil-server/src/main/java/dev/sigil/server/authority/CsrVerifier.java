package dev.sigil.server.authority;

import dev.sigil.core.Printable;
import dev.sigil.core.crypto.CryptoProviders;
import java.io.IOException;
import java.io.OutputStream;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.spec.X509EncodedKeySpec;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.operator.ContentVerifier;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * Checks a PKCS#10 certification request's proof of possession and returns its public key, the only
 * thing Sigil takes from a CSR: the requested subject, SANs and extensions are ignored, because the
 * server alone decides what an SVID says.
 *
 * <p>Accepted keys: EC P-256 and P-384, RSA 2048, 3072 and 4096 bits. Accepted signatures:
 * ECDSA and PKCS#1 v1.5 RSA with SHA-256/384/512. The signature is verified through
 * {@link CryptoProviders}, so the native provider does the work when it is loaded.
 */
final class CsrVerifier {
    private static final Map<ASN1ObjectIdentifier, String> SIGNATURE_ALGORITHMS = Map.of(
            X9ObjectIdentifiers.ecdsa_with_SHA256, "SHA256withECDSA",
            X9ObjectIdentifiers.ecdsa_with_SHA384, "SHA384withECDSA",
            X9ObjectIdentifiers.ecdsa_with_SHA512, "SHA512withECDSA",
            PKCSObjectIdentifiers.sha256WithRSAEncryption, "SHA256withRSA",
            PKCSObjectIdentifiers.sha384WithRSAEncryption, "SHA384withRSA",
            PKCSObjectIdentifiers.sha512WithRSAEncryption, "SHA512withRSA");
    private static final String SUPPORTED_KEYS = "ec p-256, ec p-384, rsa 2048/3072/4096";

    private CsrVerifier() {}

    /**
     * A public key whose possession was proven (or that the server generated itself).
     *
     * @param encoded the DER SubjectPublicKeyInfo, placed as is into the certificate
     */
    record ProvenKey(SubjectPublicKeyInfo publicKeyInfo, byte[] encoded, boolean rsa) {
        static ProvenKey of(SubjectPublicKeyInfo info, boolean rsa) {
            try {
                return new ProvenKey(info, info.getEncoded(org.bouncycastle.asn1.ASN1Encoding.DER), rsa);
            } catch (IOException e) {
                throw new CsrRejectedException("csr public key cannot be encoded: " + Printable.reason(e), e);
            }
        }
    }

    /**
     * @throws CsrRejectedException when the CSR does not parse, uses an unsupported key or signature
     *                              algorithm, or its signature does not verify with its own key
     */
    static ProvenKey verify(byte[] der) {
        try {
            return verifyParsed(der);
        } catch (CsrRejectedException e) {
            throw e;
        } catch (RuntimeException e) {
            // Bouncy Castle parses lazily: a malformed inner structure surfaces as an unchecked exception
            // from an accessor (a non-octet-aligned BIT STRING, invalid UTF-8 in a string); it is the
            // client's malformed csr, not a server failure
            throw new CsrRejectedException("csr is malformed: " + Printable.reason(e), e);
        }
    }

    private static ProvenKey verifyParsed(byte[] der) {
        if (der == null || der.length == 0) {
            throw new CsrRejectedException("csr is empty; send a DER-encoded PKCS#10 certification request");
        }
        PKCS10CertificationRequest csr;
        try {
            csr = new PKCS10CertificationRequest(der);
        } catch (IOException | RuntimeException e) {
            throw new CsrRejectedException("csr is not a DER-encoded PKCS#10 certification request: " + Printable.reason(e), e);
        }
        SubjectPublicKeyInfo info = csr.getSubjectPublicKeyInfo();
        boolean rsa = checkKey(info);
        ProvenKey proven = ProvenKey.of(info, rsa);
        PublicKey key;
        try {
            key = CryptoProviders.keyFactory(rsa ? "RSA" : "EC").generatePublic(new X509EncodedKeySpec(proven.encoded()));
        } catch (GeneralSecurityException e) {
            throw new CsrRejectedException("csr public key cannot be decoded: " + Printable.reason(e), e);
        }
        byte[] signed;
        try {
            signed = Der.firstElementOfSequence(der);
        } catch (IllegalArgumentException e) {
            throw new CsrRejectedException("csr is not a DER-encoded PKCS#10 certification request: " + Printable.reason(e), e);
        }
        boolean valid;
        try {
            ContentVerifier verifier = new Verifiers(key).get(csr.getSignatureAlgorithm());
            // the signature covers the CertificationRequestInfo exactly as sent: verify those bytes, not a re-encoding
            verifier.getOutputStream().write(signed);
            valid = verifier.verify(csr.getSignature());
        } catch (OperatorCreationException | IOException e) {
            for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
                if (cause instanceof CsrRejectedException rejected) {
                    throw rejected;
                }
            }
            throw new CsrRejectedException("csr signature cannot be checked: " + Printable.reason(e), e);
        }
        if (!valid) {
            throw new CsrRejectedException("csr signature does not verify with the csr's own public key;"
                    + " the requester has not proven possession of the private key");
        }
        return proven;
    }

    private static boolean checkKey(SubjectPublicKeyInfo info) {
        ASN1ObjectIdentifier algorithm = info.getAlgorithm().getAlgorithm();
        if (X9ObjectIdentifiers.id_ecPublicKey.equals(algorithm)) {
            Object curve = info.getAlgorithm().getParameters();
            if (!X9ObjectIdentifiers.prime256v1.equals(curve) && !SECObjectIdentifiers.secp384r1.equals(curve)) {
                String named = curve instanceof ASN1ObjectIdentifier oid ? oid.getId() : "parameters that are not a named-curve oid";
                throw new CsrRejectedException("csr has an ec key on curve " + named + "; supported: " + SUPPORTED_KEYS);
            }
            return false;
        }
        if (PKCSObjectIdentifiers.rsaEncryption.equals(algorithm)) {
            int bits;
            try {
                bits = RSAPublicKey.getInstance(info.parsePublicKey()).getModulus().bitLength();
            } catch (IOException | RuntimeException e) {
                throw new CsrRejectedException("csr rsa public key is malformed: " + Printable.reason(e), e);
            }
            if (bits != 2048 && bits != 3072 && bits != 4096) {
                throw new CsrRejectedException("csr has a " + bits + "-bit rsa key; supported: " + SUPPORTED_KEYS);
            }
            return true;
        }
        throw new CsrRejectedException("csr has a key of algorithm " + algorithm.getId() + "; supported: " + SUPPORTED_KEYS);
    }

    /** Verifies with the CSR's own key through {@link CryptoProviders}. */
    private record Verifiers(PublicKey key) implements ContentVerifierProvider {
        @Override
        public boolean hasAssociatedCertificate() {
            return false;
        }

        @Override
        public X509CertificateHolder getAssociatedCertificate() {
            return null;
        }

        @Override
        public ContentVerifier get(AlgorithmIdentifier algorithm) throws OperatorCreationException {
            String name = SIGNATURE_ALGORITHMS.get(algorithm.getAlgorithm());
            if (name == null) {
                throw new OperatorCreationException("", new CsrRejectedException("csr is signed with algorithm "
                        + algorithm.getAlgorithm() + "; supported: ecdsa-with-SHA256/384/512, sha256/384/512WithRSAEncryption"));
            }
            if (name.endsWith("RSA") != key.getAlgorithm().equals("RSA")) {
                throw new OperatorCreationException("", new CsrRejectedException("csr is signed with " + name
                        + ", which does not match its " + key.getAlgorithm() + " key"));
            }
            try {
                Signature signature = IDLE.computeIfAbsent(name, unused -> new ConcurrentLinkedQueue<>()).poll();
                if (signature == null) {
                    signature = CryptoProviders.signature(name);
                }
                signature.initVerify(key);
                return new SignatureVerifier(algorithm, name, signature);
            } catch (GeneralSecurityException e) {
                throw new OperatorCreationException("cannot verify " + name + ": " + Printable.reason(e), e);
            }
        }
    }

    /**
     * Verifying {@link Signature}s by algorithm name, reused across CSRs: each is re-initialised with
     * the next CSR's key, which resets it, and is returned only after a verification completed.
     */
    private static final ConcurrentHashMap<String, ConcurrentLinkedQueue<Signature>> IDLE = new ConcurrentHashMap<>();

    private record SignatureVerifier(AlgorithmIdentifier algorithm, String name, Signature signature) implements ContentVerifier {
        @Override
        public AlgorithmIdentifier getAlgorithmIdentifier() {
            return algorithm;
        }

        @Override
        public OutputStream getOutputStream() {
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] bytes, int offset, int length) throws IOException {
                    try {
                        signature.update(bytes, offset, length);
                    } catch (SignatureException e) {
                        throw new IOException(e);
                    }
                }
            };
        }

        @Override
        public boolean verify(byte[] expected) {
            try {
                boolean valid = signature.verify(expected);
                IDLE.get(name).offer(signature);
                return valid;
            } catch (SignatureException e) {
                return false; // a malformed signature is an invalid one; the Signature is dropped
            }
        }
    }
}
