package dev.sigil.agent.attestor;

/**
 * The agent side of one node attestation method (join_token, x509pop, ...). The server side verifies
 * what this produces; every method has both sides and passes one shared contract test.
 *
 * <p>Flow: the agent sends {@link #evidence()} with its attestor {@link #type()}; for
 * proof-of-possession methods the server answers with a challenge (a fresh nonce) that
 * {@link #respond(byte[])} signs. Implementations hold their secrets (token, private key) and never
 * put them in {@code toString()} or exceptions.
 */
public interface NodeAttestorClient {
    /** The attestor type, identical to the server verifier's, e.g. {@code join_token}. */
    String type();

    /** The evidence to open the attestation with. */
    byte[] evidence();

    /** The answer to one server challenge; methods without challenges throw IllegalStateException. */
    byte[] respond(byte[] challenge);

    /**
     * When this node's evidence stops being acceptable to the server, for methods whose evidence
     * expires (x509pop: the earliest {@code notAfter} of the chain); empty when it does not expire or
     * is single-use. The agent re-checks it on every tick (node drift).
     */
    /**
     * True when the evidence can be used only once (a join token): the agent then never re-attests with it,
     * and keeps its agent SVID renewed instead.
     */
    default boolean singleUse() {
        return false;
    }

    default java.util.Optional<java.time.Instant> evidenceNotAfter() {
        return java.util.Optional.empty();
    }

    /**
     * True when the evidence is renewed while the agent runs (tpm): the agent then attests at every start
     * rather than resuming with a stored SVID, so the server holds this run's keys.
     */
    default boolean renewsEvidence() {
        return false;
    }

    /** For methods whose evidence is renewed while the agent runs (tpm), after a successful attestation. */
    default java.util.Optional<ContinuousEvidence> continuous() {
        return java.util.Optional.empty();
    }
}
