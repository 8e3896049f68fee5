package dev.sigil.server.authority;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.impl.ECDSA;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.util.Base64URL;
import dev.sigil.core.crypto.JwsCanonical;
import dev.sigil.server.keys.Signer;
import java.util.Set;

/**
 * A Nimbus {@link JWSSigner} that signs through a {@link Signer}; the private key is never handed to
 * Nimbus. ECDSA signatures come back DER-encoded and are transcoded to the fixed-length R||S form
 * JWS requires (RFC 7518 section 3.4). Only the algorithm fixed by the signer's key type is accepted.
 */
final class SignerJwsSigner implements JWSSigner {
    private static final java.util.Base64.Encoder BASE64URL = java.util.Base64.getUrlEncoder().withoutPadding();

    private final Signer signer;
    private final JWSAlgorithm algorithm;
    private final int concatLength;
    private final java.math.BigInteger curveOrder;
    private final JCAContext context = new JCAContext();

    SignerJwsSigner(Signer signer) {
        this.signer = signer;
        this.algorithm = signer.type().jwsAlgorithm();
        try {
            this.concatLength = JWSAlgorithm.Family.EC.contains(algorithm) ? ECDSA.getSignatureByteArrayLength(algorithm) : 0;
            this.curveOrder = signer.publicKey() instanceof java.security.interfaces.ECPublicKey ec ? ec.getParams().getOrder() : null;
        } catch (JOSEException e) {
            throw new IllegalStateException("no signature length for " + algorithm, e);
        }
    }

    @Override
    public Base64URL sign(JWSHeader header, byte[] signingInput) throws JOSEException {
        if (!algorithm.equals(header.getAlgorithm())) {
            throw new JOSEException("header algorithm " + header.getAlgorithm() + " does not match the key's " + algorithm);
        }
        byte[] signature = signer.sign(signingInput);
        // ECDSA: fixed-length r||s in its low-s form, the one encoding verifiers accept (JwsCanonical)
        byte[] jws = concatLength == 0 ? signature
                : JwsCanonical.lowS(ECDSA.transcodeSignatureToConcat(signature, concatLength), curveOrder);
        return new Base64URL(BASE64URL.encodeToString(jws));
    }

    @Override
    public Set<JWSAlgorithm> supportedJWSAlgorithms() {
        return Set.of(algorithm);
    }

    @Override
    public JCAContext getJCAContext() {
        return context;
    }
}
