package dev.sigil.server.authority;

import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXCertPathValidatorResult;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** Validates chains the way a relying party would: the JDK's PKIX validator, revocation off. */
final class Pkix {
    private Pkix() {}

    /** Validates {@code chain} (leaf first) against {@code roots} at {@code at}; returns the anchor used. */
    static X509Certificate validate(List<X509Certificate> chain, List<X509Certificate> roots, Instant at) throws Exception {
        Set<TrustAnchor> anchors = roots.stream().map(root -> new TrustAnchor(root, null)).collect(Collectors.toSet());
        PKIXParameters parameters = new PKIXParameters(anchors);
        parameters.setRevocationEnabled(false);
        parameters.setDate(Date.from(at));
        PKIXCertPathValidatorResult result = (PKIXCertPathValidatorResult) CertPathValidator.getInstance("PKIX")
                .validate(CertificateFactory.getInstance("X.509").generateCertPath(chain), parameters);
        return result.getTrustAnchor().getTrustedCert();
    }
}
