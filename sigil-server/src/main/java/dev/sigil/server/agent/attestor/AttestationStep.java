package dev.sigil.server.agent.attestor;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/** Where an attestation attempt stands after the agent's last message. */
public sealed interface AttestationStep {

    /** The agent must answer {@link #challenge()}; hand its answer to {@link #answer(byte[])}. */
    record Challenge(byte[] challenge, Continuation next) implements AttestationStep {
        public Challenge {
            Objects.requireNonNull(next, "next");
            if (challenge == null || challenge.length == 0) {
                throw new IllegalArgumentException("challenge is empty; a challenge carries a nonce");
            }
            challenge = challenge.clone();
        }

        @Override
        public byte[] challenge() {
            return challenge.clone();
        }

        public AttestationStep answer(byte[] response) {
            return next.answer(response == null ? new byte[0] : response.clone());
        }

        @Override
        public String toString() {
            return "Challenge[" + challenge.length + " bytes]";
        }
    }

    /** Verifies the agent's answer to one challenge; called at most once. */
    @FunctionalInterface
    interface Continuation {
        AttestationStep answer(byte[] response);
    }

    /**
     * The node is attested: it may hold {@code agentId}. {@code selectors} are sorted and deduplicated;
     * {@code trustLevel} is the assurance level of the evidence (0 none .. 3 hardware-rooted).
     */
    record Attested(SpiffeId agentId, List<Selector> selectors, int trustLevel) implements AttestationStep {
        public Attested {
            Objects.requireNonNull(agentId, "agentId");
            selectors = List.copyOf(new TreeSet<>(selectors));
            if (trustLevel < 0 || trustLevel > 3) {
                throw new IllegalArgumentException("trust level is " + trustLevel + "; it must be 0 to 3");
            }
        }
    }

    /** The evidence (or an answer) was well formed but is not acceptable; the reason holds no secret. */
    record Refused(String reason) implements AttestationStep {
        public Refused {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** The evidence (or an answer) could not be parsed; the reason holds no secret. */
    record Malformed(String reason) implements AttestationStep {
        public Malformed {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
