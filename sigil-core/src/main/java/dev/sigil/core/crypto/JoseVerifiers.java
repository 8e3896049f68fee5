package dev.sigil.core.crypto;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;

/**
 * Nimbus JWS verifiers that run on the same provider Sigil signs with (the native Amazon Corretto
 * Crypto Provider when loaded): the JDK's own EC code verifies several times slower, and JWT-SVID
 * verification sits on the token service's hot path. Verification semantics are Nimbus's unchanged.
 */
public final class JoseVerifiers {
    private JoseVerifiers() {
    }

    public static JWSVerifier ecdsa(ECPublicKey key) throws JOSEException {
        return withFastProvider(new ECDSAVerifier(key));
    }

    public static JWSVerifier rsa(RSAPublicKey key) {
        return withFastProvider(new RSASSAVerifier(key));
    }

    private static <V extends JWSVerifier> V withFastProvider(V verifier) {
        CryptoProviders.nativeProvider().ifPresent(provider -> verifier.getJCAContext().setProvider(provider));
        return verifier;
    }
}
