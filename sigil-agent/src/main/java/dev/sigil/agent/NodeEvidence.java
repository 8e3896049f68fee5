package dev.sigil.agent;

import java.time.Instant;

/** Whether the node's attestation evidence is still acceptable to the server (node drift, see {@link Agent#nodeEvidence()}). */
public sealed interface NodeEvidence {
    /** The method's evidence does not expire (join token is single-use) or was not checked yet. */
    record NotApplicable() implements NodeEvidence {}

    record Valid(Instant notAfter) implements NodeEvidence {}

    /** Expires within a day. */
    record ExpiringSoon(Instant notAfter) implements NodeEvidence {}

    /** Expired: the server will refuse this node's next attestation. */
    record Expired(Instant notAfter) implements NodeEvidence {}
}
