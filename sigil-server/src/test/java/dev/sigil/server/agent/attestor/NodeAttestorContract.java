package dev.sigil.server.agent.attestor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.agent.attestor.NodeAttestorClient;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What every node attestor must guarantee, driven through both sides: the agent's
 * {@link NodeAttestorClient} and the server's {@link NodeAttestor}. A subclass supplies the pair.
 */
abstract class NodeAttestorContract {
    static final int MAX_ROUNDS = 8;

    protected abstract NodeAttestor server();

    /** A client holding fresh, valid evidence (a new join token, a node certificate and its key). */
    protected abstract NodeAttestorClient goodClient();

    /** A client whose evidence or key the server must not accept. */
    protected abstract NodeAttestorClient impostor();

    /** Texts that would be secrets if they leaked (a token, encoded key material). */
    protected abstract List<String> secretsOf(NodeAttestorClient client);

    /** The messages an agent sent: its evidence and each answer, in order. */
    record Transcript(byte[] evidence, List<byte[]> answers, AttestationStep result) {
    }

    static Transcript drive(NodeAttestor server, NodeAttestorClient client, byte[] evidence) {
        List<byte[]> answers = new ArrayList<>();
        AttestationStep step = server.begin(evidence, "test-agent");
        for (int round = 0; step instanceof AttestationStep.Challenge challenge && round < MAX_ROUNDS; round++) {
            byte[] answer = client.respond(challenge.challenge());
            answers.add(answer);
            step = challenge.answer(answer);
        }
        return new Transcript(evidence, answers, step);
    }

    static AttestationStep replay(NodeAttestor server, Transcript transcript) {
        AttestationStep step = server.begin(transcript.evidence(), "test-agent");
        for (byte[] answer : transcript.answers()) {
            if (!(step instanceof AttestationStep.Challenge challenge)) {
                return step;
            }
            step = challenge.answer(answer);
        }
        return step;
    }

    @Test
    void bothSidesNameTheSameType() {
        assertThat(goodClient().type()).isEqualTo(server().type());
    }

    @Test
    void goodEvidenceAttestsWithAnAgentIdSelectorsAndTrustLevelOfThisType() {
        NodeAttestorClient client = goodClient();

        AttestationStep result = drive(server(), client, client.evidence()).result();

        assertThat(result).isInstanceOf(AttestationStep.Attested.class);
        AttestationStep.Attested attested = (AttestationStep.Attested) result;
        assertThat(attested.agentId().path()).startsWith("/sigil/agent/" + server().type() + "/");
        assertThat(attested.selectors()).isNotEmpty().allSatisfy(selector -> assertThat(selector.type()).isEqualTo(server().type()));
        assertThat(attested.trustLevel()).isBetween(1, 3);
        for (String secret : secretsOf(client)) {
            assertThat(attested.toString()).doesNotContain(secret);
        }
    }

    @Test
    void replayedAttestationIsRefused() {
        NodeAttestorClient client = goodClient();
        Transcript first = drive(server(), client, client.evidence());
        assertThat(first.result()).isInstanceOf(AttestationStep.Attested.class);

        AttestationStep replayed = replay(server(), first);

        assertThat(replayed).isNotInstanceOf(AttestationStep.Attested.class).isNotInstanceOf(AttestationStep.Challenge.class);
        assertNoSecretIn(replayed, client);
    }

    @Test
    void tamperedEvidenceIsRefused() {
        NodeAttestorClient client = goodClient();
        byte[] evidence = client.evidence();
        evidence[evidence.length - 12] ^= 0x5a;

        AttestationStep result = drive(server(), client, evidence).result();

        assertThat(result).isInstanceOfAny(AttestationStep.Refused.class, AttestationStep.Malformed.class);
        assertNoSecretIn(result, client);
    }

    @Test
    void impostorIsRefusedWithoutLeakingItsSecrets() {
        NodeAttestorClient impostor = impostor();

        AttestationStep result = drive(server(), impostor, impostor.evidence()).result();

        assertThat(result).isInstanceOfAny(AttestationStep.Refused.class, AttestationStep.Malformed.class);
        assertNoSecretIn(result, impostor);
    }

    @Test
    void emptyEvidenceIsMalformed() {
        assertThat(server().begin(new byte[0], "test-agent")).isInstanceOf(AttestationStep.Malformed.class);
    }

    @Test
    void toStringShowsNoSecret() {
        NodeAttestorClient client = goodClient();
        for (String secret : secretsOf(client)) {
            assertThat(client.toString()).doesNotContain(secret);
            assertThat(server().toString()).doesNotContain(secret);
        }
    }

    private void assertNoSecretIn(AttestationStep step, NodeAttestorClient client) {
        for (String secret : secretsOf(client)) {
            assertThat(step.toString()).doesNotContain(secret);
        }
    }
}
