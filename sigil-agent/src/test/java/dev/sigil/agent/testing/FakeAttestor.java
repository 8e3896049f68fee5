package dev.sigil.agent.testing;

import dev.sigil.agent.attestor.NodeAttestorClient;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A node attestor for tests. Type {@code fake_pop} answers one challenge with "pop:" + the nonce (and
 * can attest again); type {@code join_token} sends its token and has no challenges.
 */
public final class FakeAttestor implements NodeAttestorClient {
    private final String type;
    private final String evidence;
    public final AtomicInteger challengesAnswered = new AtomicInteger();

    private FakeAttestor(String type, String evidence) {
        this.type = type;
        this.evidence = evidence;
    }

    public static FakeAttestor proofOfPossession(String node) {
        return new FakeAttestor("fake_pop", node);
    }

    public static FakeAttestor joinToken(String token) {
        return new FakeAttestor("join_token", token);
    }

    /** A join token is single-use, like the real client's. */
    @Override
    public boolean singleUse() {
        return type.equals("join_token");
    }

    @Override
    public String type() {
        return type;
    }

    @Override
    public byte[] evidence() {
        return evidence.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] respond(byte[] challenge) {
        if (type.equals("join_token")) {
            throw new IllegalStateException("join tokens have no challenges");
        }
        challengesAnswered.incrementAndGet();
        byte[] answer = new byte[challenge.length + 4];
        System.arraycopy("pop:".getBytes(StandardCharsets.UTF_8), 0, answer, 0, 4);
        System.arraycopy(challenge, 0, answer, 4, challenge.length);
        return answer;
    }
}
