package dev.sigil.server.authority;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.util.Base64URL;
import dev.sigil.core.crypto.JwsCanonical;
import dev.sigil.core.crypto.KeyType;
import dev.sigil.server.keys.KeyHandle;
import dev.sigil.server.keys.KeyManagers;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.interfaces.ECPublicKey;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SignerJwsSignerTest {
    /** ECDSA signers draw a random nonce: without normalization about half of all signatures have a high s. */
    @ParameterizedTest
    @EnumSource(value = KeyType.class, names = {"EC_P256", "EC_P384"})
    void everyEcdsaSignatureIsLowSAndCanonicallyEncoded(KeyType type) throws Exception {
        KeyHandle key = KeyManagers.memory().generate("jwt-" + type.name().toLowerCase(), type);
        SignerJwsSigner signer = new SignerJwsSigner(key);
        JWSHeader header = new JWSHeader.Builder(type.jwsAlgorithm()).keyID(key.id()).build();
        ECDSAVerifier verifier = new ECDSAVerifier((ECPublicKey) key.publicKey());
        BigInteger order = ((ECPublicKey) key.publicKey()).getParams().getOrder();
        for (int i = 0; i < 400; i++) {
            byte[] input = (header.toBase64URL() + "." + Base64URL.encode("{\"jti\":\"" + i + "\"}")).getBytes(StandardCharsets.US_ASCII);
            Base64URL signature = signer.sign(header, input);

            assertThat(JwsCanonical.lowS(signature.decode(), order)).as("signature %d is low-s", i).isEqualTo(signature.decode());
            assertThat(JwsCanonical.problem(new String(input, StandardCharsets.US_ASCII) + "." + signature, order))
                    .as("signature %d is canonical", i).isEmpty();
            assertThat(verifier.verify(header, input, signature)).isTrue();
        }
    }
}
