package dev.sigil.server.authority;

import dev.sigil.core.crypto.KeyType;
import dev.sigil.server.keys.Signer;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;

/**
 * A BouncyCastle {@link ContentSigner} that signs through a {@link Signer}, so certificates are signed
 * inside the key manager and with the native provider. One instance per signature (it buffers the
 * data to be signed); create it with {@link #of}.
 */
final class SignerContentSigner implements ContentSigner {
    private static final DefaultSignatureAlgorithmIdentifierFinder FINDER = new DefaultSignatureAlgorithmIdentifierFinder();

    private final Signer signer;
    private final AlgorithmIdentifier algorithm;
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(1024);

    private SignerContentSigner(Signer signer, AlgorithmIdentifier algorithm) {
        this.signer = signer;
        this.algorithm = algorithm;
    }

    static SignerContentSigner of(Signer signer, AlgorithmIdentifier algorithm) {
        return new SignerContentSigner(signer, algorithm);
    }

    /** The X.509 signature algorithm identifier of {@code type}, computed once by the caller and reused. */
    static AlgorithmIdentifier algorithmOf(KeyType type) {
        return FINDER.find(type.signatureAlgorithm());
    }

    @Override
    public AlgorithmIdentifier getAlgorithmIdentifier() {
        return algorithm;
    }

    @Override
    public OutputStream getOutputStream() {
        return buffer;
    }

    @Override
    public byte[] getSignature() {
        return signer.sign(buffer.toByteArray());
    }
}
