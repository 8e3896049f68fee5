package dev.sigil.agent.server;

import dev.sigil.agent.AgentException;
import dev.sigil.core.crypto.CryptoProviders;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * Keys generated on the node (EC P-256) and the PKCS#10 requests that prove their possession. The
 * server takes only the public key from a CSR; the private key never leaves this process.
 */
public final class NodeKeys {
    private static final X500Name SUBJECT = new X500Name("O=Sigil");

    private NodeKeys() {
    }

    public static KeyPair generate() {
        try {
            KeyPairGenerator generator = CryptoProviders.keyPairGenerator("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new AgentException("cannot generate an ec p-256 key: " + e.getMessage(), e);
        }
    }

    /** A DER PKCS#10 request for {@code keys}, signed with SHA256withECDSA. */
    public static byte[] csr(KeyPair keys) {
        try {
            JcaContentSignerBuilder signer = new JcaContentSignerBuilder("SHA256withECDSA");
            CryptoProviders.nativeProvider().ifPresent(signer::setProvider);
            return new JcaPKCS10CertificationRequestBuilder(SUBJECT, keys.getPublic()).build(signer.build(keys.getPrivate())).getEncoded();
        } catch (OperatorCreationException | IOException e) {
            throw new AgentException("cannot build a certification request: " + e.getMessage(), e);
        }
    }

    /** True when {@code certificate} certifies the public half of {@code keys}. */
    public static boolean certifies(X509Certificate certificate, KeyPair keys) {
        return Arrays.equals(certificate.getPublicKey().getEncoded(), keys.getPublic().getEncoded());
    }
}
