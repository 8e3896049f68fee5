package dev.sigil.server.keys;

import dev.sigil.core.crypto.KeyType;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.RSAKeyGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Keys inside a PKCS#11 token (a hardware security module, SoftHSM2 in tests) through the JDK's
 * {@code SunPKCS11} provider. Keys are generated in the token as token objects marked sensitive and not
 * extractable ({@code CKA_SENSITIVE}, {@code CKA_EXTRACTABLE = false}): the private key never exists
 * outside the token, not even encrypted, and this class signs by asking the token.
 *
 * <p>A key is found by its id as the token's label ({@code CKA_LABEL}). A PKCS#11 key store entry needs a
 * certificate, so each key is stored with a self-signed placeholder certificate that carries its public
 * key ({@code CN=sigil key <id>}); it is never used as a certificate. Generating under an existing id
 * replaces the entry (the old key objects are destroyed).
 *
 * <p>Thread safety: the key store is used under this object's lock; signing is concurrent (the provider
 * opens a session per operation from its pool), with initialised signatures pooled per key ({@link SignaturePool}).
 */
final class Pkcs11KeyManager implements KeyManager {
    private final Provider provider;
    private final KeyStore store;
    private final String description;

    /**
     * @param library the module ({@code .so}) path
     * @param slotListIndex which of the module's slots with a token (0: the first)
     * @param pin the user PIN; kept by the provider's login only
     */
    Pkcs11KeyManager(String library, int slotListIndex, char[] pin) {
        String config = "--name=sigil\n"
                + "library=" + library + "\n"
                + "slotListIndex=" + slotListIndex + "\n"
                + "attributes(generate, CKO_PRIVATE_KEY, *) = {\n  CKA_TOKEN = true\n  CKA_SENSITIVE = true\n  CKA_EXTRACTABLE = false\n}\n"
                + "attributes(generate, CKO_PUBLIC_KEY, *) = {\n  CKA_TOKEN = true\n}\n";
        try {
            Provider base = Security.getProvider("SunPKCS11");
            if (base == null) {
                throw new KeyManagerException("this JDK has no SunPKCS11 provider; the pkcs11 key manager needs one", null);
            }
            this.provider = base.configure(config);
            this.store = KeyStore.getInstance("PKCS11", provider);
            store.load(null, pin);
        } catch (GeneralSecurityException | java.io.IOException | java.security.InvalidParameterException e) {
            throw new KeyManagerException("cannot open the pkcs11 token in slot list index " + slotListIndex + " of " + library + ": "
                    + dev.sigil.core.Printable.reason(rootCause(e)), e);
        }
        this.description = "pkcs11 key manager (" + library + ", slot list index " + slotListIndex + ")";
    }

    @Override
    public synchronized KeyHandle generate(String keyId, KeyType type) {
        KeyIds.validate(keyId);
        Objects.requireNonNull(type, "type");
        try {
            if (store.containsAlias(keyId)) {
                store.deleteEntry(keyId);
            }
            KeyPairGenerator generator = KeyPairGenerator.getInstance(type.jcaKeyAlgorithm(), provider);
            if (type.curve().isPresent()) {
                generator.initialize(new ECGenParameterSpec(type.curve().get()));
            } else {
                generator.initialize(new RSAKeyGenParameterSpec(type.bits(), RSAKeyGenParameterSpec.F4));
            }
            KeyPair pair = generator.generateKeyPair();
            store.setKeyEntry(keyId, pair.getPrivate(), null, new Certificate[] {placeholder(keyId, type, pair)});
            return new TokenKey(keyId, type, pair.getPrivate(), pair.getPublic(), provider);
        } catch (GeneralSecurityException | OperatorCreationException | RuntimeException e) {
            if (e instanceof KeyManagerException known) {
                throw known;
            }
            throw new KeyManagerException("cannot generate key '" + keyId + "' (" + type.configName() + ") in the " + description + ": "
                    + dev.sigil.core.Printable.reason(rootCause(e)), e);
        }
    }

    @Override
    public synchronized Optional<KeyHandle> find(String keyId) {
        KeyIds.validate(keyId);
        try {
            if (!store.isKeyEntry(keyId)) {
                return Optional.empty();
            }
            PrivateKey key = (PrivateKey) store.getKey(keyId, null);
            PublicKey publicKey = store.getCertificate(keyId).getPublicKey();
            return Optional.of(new TokenKey(keyId, typeOf(publicKey, keyId), key, publicKey, provider));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new KeyManagerException("cannot read key '" + keyId + "' from the " + description + ": "
                    + dev.sigil.core.Printable.reason(rootCause(e)), e);
        }
    }

    @Override
    public synchronized void delete(String keyId) {
        KeyIds.validate(keyId);
        try {
            if (store.containsAlias(keyId)) {
                store.deleteEntry(keyId);
            }
        } catch (GeneralSecurityException e) {
            throw new KeyManagerException("cannot delete key '" + keyId + "' from the " + description + ": "
                    + dev.sigil.core.Printable.reason(rootCause(e)), e);
        }
    }

    @Override
    public synchronized List<KeyHandle> list() {
        try {
            List<String> ids = new ArrayList<>(Collections.list(store.aliases()));
            Collections.sort(ids);
            List<KeyHandle> keys = new ArrayList<>();
            for (String id : ids) {
                if (store.isKeyEntry(id)) {
                    find(id).ifPresent(keys::add);
                }
            }
            return keys;
        } catch (GeneralSecurityException e) {
            throw new KeyManagerException("cannot list the keys of the " + description + ": " + dev.sigil.core.Printable.reason(rootCause(e)), e);
        }
    }

    @Override
    public String describe() {
        return description;
    }

    private X509Certificate placeholder(String keyId, KeyType type, KeyPair pair) throws OperatorCreationException,
            java.security.cert.CertificateException {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        X500Principal name = new X500Principal("CN=sigil key " + keyId);
        var builder = new JcaX509v3CertificateBuilder(name, BigInteger.ONE, Date.from(now), Date.from(now.plus(36_500, ChronoUnit.DAYS)),
                name, pair.getPublic());
        var signer = new JcaContentSignerBuilder(type.signatureAlgorithm()).setProvider(provider).build(pair.getPrivate());
        return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    }

    private static KeyType typeOf(PublicKey key, String keyId) {
        if (key instanceof ECPublicKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            for (KeyType type : KeyType.values()) {
                if (type.curve().isPresent() && type.bits() == bits) {
                    return type;
                }
            }
        } else if (key instanceof RSAPublicKey rsa) {
            for (KeyType type : KeyType.values()) {
                if (type.curve().isEmpty() && type.bits() == rsa.getModulus().bitLength()) {
                    return type;
                }
            }
        }
        throw new KeyManagerException("key '" + keyId + "' in the token is a " + key.getAlgorithm() + " key of a size sigil does not use", null);
    }

    private static Throwable rootCause(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return cause;
    }

    /** A key in the token: signing asks the token; the private key object is a handle, not key material. */
    private static final class TokenKey implements KeyHandle {
        private final String id;
        private final KeyType type;
        private final PublicKey publicKey;
        private final SignaturePool signatures;

        TokenKey(String id, KeyType type, PrivateKey privateKey, PublicKey publicKey, Provider provider) {
            this.id = id;
            this.type = type;
            this.publicKey = publicKey;
            this.signatures = new SignaturePool(id, type, privateKey, algorithm -> Signature.getInstance(algorithm, provider),
                    " in the pkcs11 token");
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public KeyType type() {
            return type;
        }

        @Override
        public PublicKey publicKey() {
            return publicKey;
        }

        @Override
        public byte[] sign(byte[] data) {
            return signatures.sign(data);
        }

        @Override
        public String toString() {
            return "Pkcs11Key[" + id + ", " + type.configName() + "]";
        }
    }
}
