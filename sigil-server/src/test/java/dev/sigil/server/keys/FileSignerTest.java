package dev.sigil.server.keys;

import static dev.sigil.server.keys.KeyManagerContractTest.verifiesWithJdk;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.core.crypto.KeyType;
import dev.sigil.core.crypto.Pem;
import java.io.StringWriter;
import java.math.BigInteger;
import java.security.interfaces.ECPrivateKey;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileSignerTest {
    private static final byte[] DATA = {4, 2};

    @TempDir
    Path temp;

    @Test
    void loadsAPkcs8EcKeyAndSignsWithIt() throws Exception {
        KeyPair pair = ecPair("secp384r1");
        Path file = write("pkcs8.pem", new JcaPKCS8Generator(pair.getPrivate(), null));

        FileSigner signer = FileSigner.load(file);

        assertThat(signer.type()).isEqualTo(KeyType.EC_P384);
        assertThat(signer.publicKey().getEncoded()).isEqualTo(pair.getPublic().getEncoded());
        assertThat(verifiesWithJdk(KeyType.EC_P384, pair.getPublic(), DATA, signer.sign(DATA))).isTrue();
    }

    @Test
    void loadsASec1EcKey() throws Exception {
        KeyPair pair = ecPair("secp256r1");
        Path file = temp.resolve("sec1.pem");
        Files.writeString(file, sec1Pem(pair));

        FileSigner signer = FileSigner.load(file);

        assertThat(signer.type()).isEqualTo(KeyType.EC_P256);
        assertThat(verifiesWithJdk(KeyType.EC_P256, pair.getPublic(), DATA, signer.sign(DATA))).isTrue();
    }

    @Test
    void loadsAPkcs1RsaKeyAfterACertificateBlock() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair pair = generator.generateKeyPair();
        Path file = write("rsa.pem", pair.getPrivate());
        assertThat(Files.readString(file)).contains("BEGIN RSA PRIVATE KEY");

        FileSigner signer = FileSigner.load(file);

        assertThat(signer.type()).isEqualTo(KeyType.RSA_2048);
        assertThat(verifiesWithJdk(KeyType.RSA_2048, pair.getPublic(), DATA, signer.sign(DATA))).isTrue();
    }

    @Test
    void fileWithoutAPrivateKeyIsRefusedNamingTheFile() throws Exception {
        Path file = temp.resolve("empty.pem");
        Files.writeString(file, "nothing to see\n");

        assertThatThrownBy(() -> FileSigner.load(file))
                .isInstanceOf(KeyManagerException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("no PEM private key");
    }

    @Test
    void missingFileIsRefusedNamingTheFile() {
        Path file = temp.resolve("absent.pem");

        assertThatThrownBy(() -> FileSigner.load(file))
                .isInstanceOf(KeyManagerException.class)
                .hasMessageContaining(file.toString());
    }

    @Test
    void keyOnAnUnsupportedCurveIsRefused() throws Exception {
        Path file = write("p521.pem", new JcaPKCS8Generator(ecPair("secp521r1").getPrivate(), null));

        assertThatThrownBy(() -> FileSigner.load(file))
                .isInstanceOf(KeyManagerException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("supported: P-256, P-384");
    }

    @Test
    void toStringNamesTheFileOnly() throws Exception {
        Path file = write("ca.pem", new JcaPKCS8Generator(ecPair("secp256r1").getPrivate(), null));

        assertThat(FileSigner.load(file).toString()).isEqualTo("FileSigner[" + file + ", ec-p256]");
    }

    private static KeyPair ecPair(String curve) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec(curve));
        return generator.generateKeyPair();
    }

    /** The SEC1 form openssl writes ({@code openssl ecparam -genkey}): curve OID and public key included. */
    private static String sec1Pem(KeyPair pair) throws Exception {
        SubjectPublicKeyInfo publicInfo = SubjectPublicKeyInfo.getInstance(pair.getPublic().getEncoded());
        BigInteger scalar = ((ECPrivateKey) pair.getPrivate()).getS();
        org.bouncycastle.asn1.sec.ECPrivateKey sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(256, scalar,
                publicInfo.getPublicKeyData(), publicInfo.getAlgorithm().getParameters());
        return Pem.encode("EC PARAMETERS", publicInfo.getAlgorithm().getParameters().toASN1Primitive().getEncoded())
                + Pem.encode("EC PRIVATE KEY", sec1.getEncoded());
    }

    private Path write(String name, Object pemObject) throws Exception {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(pemObject);
        }
        Path file = temp.resolve(name);
        Files.writeString(file, text.toString());
        return file;
    }
}
