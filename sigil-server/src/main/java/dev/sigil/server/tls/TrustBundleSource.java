package dev.sigil.server.tls;

import java.security.cert.X509Certificate;
import java.util.Collection;

/**
 * The X.509 authorities (roots) client certificates must chain to. Consulted on every handshake, so a
 * bundle update applies to the next connection. Returning an empty collection refuses every client.
 */
@FunctionalInterface
public interface TrustBundleSource {
    Collection<X509Certificate> x509Authorities();
}
