package dev.sigil.server.keys;

import dev.sigil.core.crypto.CryptoProviders;
import dev.sigil.core.crypto.KeyType;
import dev.sigil.core.crypto.Pem;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAKeyGenParameterSpec;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.pkcs.RSAPrivateKey;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X962Parameters;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * The one place where private keys are created, encoded and decoded. Encoding is used only by the
 * disk key manager to write its own files; nothing here is reachable from outside the package.
 */
final class PrivateKeys {
    static final String PKCS8_BLOCK = "PRIVATE KEY";

    private PrivateKeys() {}

    /** A freshly generated key pair of {@code type}, from the native provider when it is loaded. */
    static KeyPair generate(KeyType type) {
        try {
            KeyPairGenerator generator = CryptoProviders.keyPairGenerator(type.jcaKeyAlgorithm());
            if (type.curve().isPresent()) {
                generator.initialize(new ECGenParameterSpec(type.curve().get()));
            } else {
                generator.initialize(new RSAKeyGenParameterSpec(type.bits(), RSAKeyGenParameterSpec.F4));
            }
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new KeyManagerException("cannot generate a " + type.configName() + " key: " + e.getMessage(), e);
        }
    }

    /** The PKCS#8 PEM text of {@code key}; only for writing the disk key manager's own files. */
    static String encodePkcs8Pem(PrivateKey key) {
        byte[] der = key.getEncoded();
        if (der == null || !"PKCS#8".equals(key.getFormat())) {
            throw new KeyManagerException("the crypto provider cannot export a " + key.getAlgorithm() + " key as PKCS#8");
        }
        return Pem.encode(PKCS8_BLOCK, der);
    }

    /** A decoded key: its type and both halves. */
    record Decoded(KeyType type, PrivateKey privateKey, PublicKey publicKey) {
        @Override
        public String toString() {
            return "Decoded[" + type.configName() + "]";
        }
    }

    /**
     * Decodes the first private key in {@code pem}: PKCS#8 ({@code PRIVATE KEY}), SEC1
     * ({@code EC PRIVATE KEY}) or PKCS#1 ({@code RSA PRIVATE KEY}); certificates and EC parameter
     * blocks before it are skipped. The public key is derived from the private key, never trusted
     * from the file. Error messages name {@code source} and never include key material.
     */
    static Decoded decodePem(String pem, String source) {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object object;
            while ((object = parser.readObject()) != null) {
                if (object instanceof PrivateKeyInfo info) {
                    return decode(info, source);
                }
                if (object instanceof PEMKeyPair pair) {
                    return decode(pair.getPrivateKeyInfo(), source);
                }
                if (object instanceof PKCS8EncryptedPrivateKeyInfo || object instanceof PEMEncryptedKeyPair) {
                    throw new KeyManagerException(source + " holds an encrypted private key; give an unencrypted PKCS#8,"
                            + " SEC1 or PKCS#1 key (for example: openssl pkcs8 -topk8 -nocrypt)");
                }
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof KeyManagerException known) {
                throw known;
            }
            throw new KeyManagerException(source + " is not a readable PEM private key: " + e.getMessage(), e);
        }
        throw new KeyManagerException(source + " contains no PEM private key block"
                + " ('PRIVATE KEY', 'EC PRIVATE KEY' or 'RSA PRIVATE KEY')");
    }

    private static Decoded decode(PrivateKeyInfo info, String source) throws IOException {
        ASN1ObjectIdentifier algorithm = info.getPrivateKeyAlgorithm().getAlgorithm();
        try {
            if (X9ObjectIdentifiers.id_ecPublicKey.equals(algorithm)) {
                return decodeEc(info, source);
            }
            if (PKCSObjectIdentifiers.rsaEncryption.equals(algorithm)) {
                return decodeRsa(info, source);
            }
        } catch (GeneralSecurityException e) {
            throw new KeyManagerException(source + " holds a private key the crypto provider rejects: " + e.getMessage(), e);
        }
        throw new KeyManagerException(source + " holds a key with algorithm " + algorithm + "; supported: ec-p256, ec-p384, rsa-2048");
    }

    private static Decoded decodeEc(PrivateKeyInfo info, String source) throws IOException, GeneralSecurityException {
        X962Parameters curveParameters = X962Parameters.getInstance(info.getPrivateKeyAlgorithm().getParameters());
        if (curveParameters == null || !curveParameters.isNamedCurve()) {
            throw new KeyManagerException(source + " holds an ec key without a named curve; supported: P-256, P-384");
        }
        ASN1ObjectIdentifier curve = ASN1ObjectIdentifier.getInstance(curveParameters.getParameters());
        KeyType type;
        if (X9ObjectIdentifiers.prime256v1.equals(curve)) {
            type = KeyType.EC_P256;
        } else if (SECObjectIdentifiers.secp384r1.equals(curve)) {
            type = KeyType.EC_P384;
        } else {
            throw new KeyManagerException(source + " holds an ec key on curve " + curve + "; supported: P-256, P-384");
        }
        BigInteger scalar = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey()).getKey();
        X9ECParameters parameters = ECNamedCurveTable.getByOID(curve);
        byte[] point = parameters.getG().multiply(scalar).normalize().getEncoded(false);
        SubjectPublicKeyInfo publicInfo = new SubjectPublicKeyInfo(
                new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, curve), point);
        PrivateKey privateKey = CryptoProviders.keyFactory("EC").generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
        PublicKey publicKey = CryptoProviders.keyFactory("EC").generatePublic(new X509EncodedKeySpec(publicInfo.getEncoded()));
        return new Decoded(type, privateKey, publicKey);
    }

    private static Decoded decodeRsa(PrivateKeyInfo info, String source) throws IOException, GeneralSecurityException {
        RSAPrivateKey rsa = RSAPrivateKey.getInstance(info.parsePrivateKey());
        int bits = rsa.getModulus().bitLength();
        if (bits != KeyType.RSA_2048.bits()) {
            throw new KeyManagerException(source + " holds a " + bits + "-bit rsa key; supported: rsa-2048");
        }
        PrivateKey privateKey = CryptoProviders.keyFactory("RSA").generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
        PublicKey publicKey = CryptoProviders.keyFactory("RSA")
                .generatePublic(new RSAPublicKeySpec(rsa.getModulus(), rsa.getPublicExponent()));
        return new Decoded(KeyType.RSA_2048, privateKey, publicKey);
    }
}
