package dev.sigil.agent.server;

import java.security.cert.X509Certificate;
import java.util.List;

/** The server's answer to one workload CSR of a batch. */
public sealed interface SignResult {
    String entryId();

    /** The X.509-SVID chain, leaf first. */
    record Signed(String entryId, List<X509Certificate> chain) implements SignResult {
        public Signed {
            chain = List.copyOf(chain);
            if (chain.isEmpty()) {
                throw new IllegalArgumentException("signed svid for entry '" + entryId + "' has no certificate");
            }
        }
    }

    /** The server refused this one request; {@code reason} is its message. */
    record Refused(String entryId, String reason) implements SignResult {
    }
}
