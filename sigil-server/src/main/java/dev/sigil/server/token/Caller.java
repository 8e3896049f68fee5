package dev.sigil.server.token;

import dev.sigil.core.spiffeid.SpiffeId;
import java.security.cert.X509Certificate;
import java.util.Optional;

/**
 * Who is calling the token service, from transport evidence only: the X.509-SVID of a mutual TLS
 * connection (already validated against the bundle) and the bearer token of the Authorization header
 * (not yet verified).
 */
record Caller(Optional<X509Certificate> clientCertificate, Optional<SpiffeId> mtlsId, Optional<String> bearer) {
    boolean mutualTls() {
        return mtlsId.isPresent();
    }
}
