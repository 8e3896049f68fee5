package dev.sigil.server.cluster;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.SigilServer;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** X.509-SVIDs that a server signs, and whether another server's bundle vouches for them: for tests of several servers. */
final class ClusterSvids {
    private ClusterSvids() {}

    /** A fresh X.509-SVID for {@code spiffe://example.org/web} signed by {@code server}'s active CA, for a new P-256 key. */
    static X509Certificate mint(SigilServer server, Duration ttl) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = generator.generateKeyPair();
        byte[] csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=ignored"), pair.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())).getEncoded();
        return server.authority().mintX509Svid(SpiffeId.parse("spiffe://example.org/web"), csr, ttl, List.of()).leaf();
    }

    /** Whether {@code leaf}'s signature verifies with one of {@code roots} (the bundle's self-signed CAs). */
    static boolean verifiesAgainst(X509Certificate leaf, List<X509Certificate> roots) {
        for (X509Certificate root : roots) {
            try {
                leaf.verify(root.getPublicKey());
                return true;
            } catch (java.security.GeneralSecurityException e) {
                // not this root
            }
        }
        return false;
    }
}
