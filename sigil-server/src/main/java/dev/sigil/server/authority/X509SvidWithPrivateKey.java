package dev.sigil.server.authority;

import dev.sigil.core.crypto.Pem;
import java.security.PrivateKey;
import java.util.Objects;

/**
 * An X.509-SVID together with a private key the server generated for it ({@code sigil x509 mint}).
 * This is the only place a workload private key is created server-side. The key leaves only through
 * {@link #exportPrivateKeyPkcs8Pem()}, a deliberately named path; {@code toString()} never prints it.
 */
public final class X509SvidWithPrivateKey {
    private final X509Svid svid;
    private final PrivateKey privateKey;

    X509SvidWithPrivateKey(X509Svid svid, PrivateKey privateKey) {
        this.svid = Objects.requireNonNull(svid, "svid");
        this.privateKey = Objects.requireNonNull(privateKey, "privateKey");
    }

    public X509Svid svid() {
        return svid;
    }

    /** The private key as PKCS#8 PEM, for handing to the operator who asked for it. Treat as a secret. */
    public String exportPrivateKeyPkcs8Pem() {
        return Pem.encode("PRIVATE KEY", privateKey.getEncoded());
    }

    @Override
    public String toString() {
        return "X509SvidWithPrivateKey[" + svid + ", privateKey=<redacted>]";
    }
}
