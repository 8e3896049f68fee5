package dev.sigil.server.agent.attestor;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A node attestor whose evidence is renewed while the agent runs (tpm: a fresh quote every interval).
 * The agent asks for a {@link #challenge}, answers it, and the answer is judged by {@link #verify}:
 * accepted, refused (not counted as evidence), or {@link Verdict.Drifted}: the node is no longer what it
 * was attested as, and everything its workloads hold must be withdrawn.
 *
 * <p>Guarantees: a challenge is answerable once, by the agent it was issued to; an agent this attestor
 * has not attested (or whose state it lost in a restart) gets {@link Verdict.Unknown} and must attest
 * again. {@link #trustLevel} is 0 for an agent whose evidence is overdue, so policy stops trusting a node
 * that stopped proving itself.
 */
public interface ContinuousAttestor extends NodeAttestor {

    /** A fresh challenge for {@code agent}, or empty when this attestor holds no attestation for it. */
    Optional<byte[]> challenge(SpiffeId agent);

    Verdict verify(SpiffeId agent, byte[] answer);

    /** The trust level policy should use for {@code agent}, attested at {@code attested}: 0 once its evidence is overdue. */
    int trustLevel(SpiffeId agent, int attested);

    /** When {@code agent} last proved its state (its attestation or its last accepted quote); empty when none is on record here. */
    java.util.Optional<java.time.Instant> lastEvidenceAt(SpiffeId agent);

    /** How a continuous answer was judged. */
    sealed interface Verdict {
        /** The node still meets its policy; {@code evidence} summarizes what was verified (for the audit record). */
        record Accepted(String evidence) implements Verdict {
            public Accepted {
                Objects.requireNonNull(evidence, "evidence");
            }
        }

        /** The answer proves nothing (replayed, wrong signer, malformed); the reason holds no secret. */
        record Refused(String reason, boolean malformed) implements Verdict {
            public Refused {
                Objects.requireNonNull(reason, "reason");
            }
        }

        /** No attestation is on record for the agent (never attested here, or state lost): it must attest again. */
        record Unknown(String reason) implements Verdict {
            public Unknown {
                Objects.requireNonNull(reason, "reason");
            }
        }

        /**
         * Verified evidence outside policy: node drift. {@code before} are the node's selectors as
         * attested, {@code after} what the evidence shows now.
         */
        record Drifted(String reason, List<Selector> before, List<Selector> after) implements Verdict {
            public Drifted {
                Objects.requireNonNull(reason, "reason");
                before = List.copyOf(before);
                after = List.copyOf(after);
            }
        }
    }
}
