package dev.sigil.server.svid;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.authority.X509Svid;
import dev.sigil.server.tls.TlsIdentity;
import dev.sigil.server.tls.TlsMaterial;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * The server's own X.509-SVID ({@code spiffe://<trust domain>/sigil/server}), presented by its TLS
 * listeners (bundle endpoint, mutual-TLS admin API). The key pair is generated in memory at start and
 * never written anywhere; the certificate is signed by the trust domain's CA like any other SVID
 * (and audited), and renewed at half its lifetime or when the CA that signed it is no longer active.
 */
public final class ServerIdentity implements TlsMaterial {
    /** The DNS name in the server's SVID, so clients that check host names can reach it on loopback. */
    static final List<String> DNS_NAMES = List.of("localhost");
    private static final String ACTOR = "sigil-server";

    private final SpiffeId spiffeId;
    private final SvidIssuer issuer;
    private final Clock clock;
    private final Duration ttl;
    private final AtomicReference<Held> current = new AtomicReference<>();

    private record Held(TlsIdentity identity, Instant renewAfter) {
    }

    public ServerIdentity(SpiffeId spiffeId, SvidIssuer issuer, Clock clock, Duration ttl) {
        this.spiffeId = spiffeId;
        this.issuer = issuer;
        this.clock = clock;
        this.ttl = ttl;
    }

    public SpiffeId spiffeId() {
        return spiffeId;
    }

    @Override
    public TlsIdentity current() {
        Held held = current.get();
        if (held == null) {
            throw new IllegalStateException("the server's identity has not been issued yet");
        }
        return held.identity();
    }

    /** Issues a fresh SVID when there is none yet, it has passed half its lifetime, or {@code force} is set. */
    public synchronized void renewIfDue(boolean force) {
        Held held = current.get();
        if (!force && held != null && clock.instant().isBefore(held.renewAfter())) {
            return;
        }
        KeyPair pair = newKeyPair();
        X509Svid svid = issuer.issueX509(spiffeId, csr(pair), ttl, DNS_NAMES, ACTOR);
        Instant issued = clock.instant();
        Instant renewAfter = issued.plus(Duration.between(issued, svid.expiresAt()).dividedBy(2));
        current.set(new Held(new TlsIdentity(svid.chain(), pair.getPrivate()), renewAfter));
    }

    private static KeyPair newKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate the server's tls key: " + e.getMessage(), e);
        }
    }

    private static byte[] csr(KeyPair pair) {
        try {
            return new JcaPKCS10CertificationRequestBuilder(new X500Principal("O=Sigil"), pair.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()))
                    .getEncoded();
        } catch (OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot build the server's certificate request: " + e.getMessage(), e);
        }
    }
}
