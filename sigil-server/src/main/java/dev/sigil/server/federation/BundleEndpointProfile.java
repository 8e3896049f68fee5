package dev.sigil.server.federation;

import dev.sigil.core.spiffeid.SpiffeId;
import java.util.Objects;

/**
 * How a foreign bundle endpoint authenticates itself (SPIFFE Trust Domain and Bundle specification,
 * section 5.2): {@link HttpsWeb} with a certificate from a web PKI CA (the JDK's trusted roots, or the
 * roots the server was given), or {@link HttpsSpiffe} with an X.509-SVID of {@code endpointSpiffeId} that
 * chains to the current bundle of that trust domain.
 */
public sealed interface BundleEndpointProfile {
    String HTTPS_WEB = "https_web";
    String HTTPS_SPIFFE = "https_spiffe";

    /** {@code https_web} or {@code https_spiffe}. */
    String name();

    record HttpsWeb() implements BundleEndpointProfile {
        @Override
        public String name() {
            return HTTPS_WEB;
        }
    }

    record HttpsSpiffe(SpiffeId endpointSpiffeId) implements BundleEndpointProfile {
        public HttpsSpiffe {
            Objects.requireNonNull(endpointSpiffeId, "endpointSpiffeId");
        }

        @Override
        public String name() {
            return HTTPS_SPIFFE;
        }
    }
}
