package dev.sigil.agent;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Node drift, agent side: re-checks on every tick whether the node's attestation evidence is still
 * acceptable (x509pop: its certificate chain has not expired). The server only checks evidence when the
 * agent attests, so without this an agent would notice an expired node certificate only when it next
 * has to re-attest and is refused.
 *
 * <p>Contract: reporting only. A change of status is logged once (a warning from {@link #WARN_BEFORE}
 * before expiry, an error once expired, saying that the node certificate must be renewed); the agent
 * keeps serving until its own SVID expires or the server refuses it. Cutting a node off is the
 * server's decision ({@code sigil agent ban}).
 */
final class NodeEvidenceCheck {
    private static final Logger LOG = LoggerFactory.getLogger(NodeEvidenceCheck.class);
    static final Duration WARN_BEFORE = Duration.ofDays(1);

    private final String attestorType;
    private final Optional<Instant> notAfter;
    private volatile NodeEvidence status = new NodeEvidence.NotApplicable();

    NodeEvidenceCheck(String attestorType, Optional<Instant> notAfter) {
        this.attestorType = attestorType;
        this.notAfter = notAfter;
    }

    NodeEvidence status() {
        return status;
    }

    /** Re-checks at {@code now}; logs when the status changes. */
    NodeEvidence check(Instant now) {
        if (notAfter.isEmpty()) {
            return status;
        }
        Instant end = notAfter.get();
        NodeEvidence next = !now.isBefore(end) ? new NodeEvidence.Expired(end)
                : now.plus(WARN_BEFORE).isBefore(end) ? new NodeEvidence.Valid(end) : new NodeEvidence.ExpiringSoon(end);
        if (!next.getClass().equals(status.getClass())) {
            switch (next) {
                case NodeEvidence.Expired expired -> LOG.error("node drift: the {} node evidence expired at {}; the server will refuse "
                        + "this node's next attestation: renew the node certificate and restart the agent", attestorType, end);
                case NodeEvidence.ExpiringSoon soon -> LOG.warn("the {} node evidence expires at {}; renew the node certificate and "
                        + "restart the agent before then", attestorType, end);
                case NodeEvidence.Valid valid -> LOG.debug("the {} node evidence is valid until {}", attestorType, end);
                case NodeEvidence.NotApplicable none -> { }
            }
        }
        status = next;
        return next;
    }
}
