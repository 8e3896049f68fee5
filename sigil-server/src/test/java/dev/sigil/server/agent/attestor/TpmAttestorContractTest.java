package dev.sigil.server.agent.attestor;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sigil.agent.attestor.NodeAttestorClient;
import dev.sigil.agent.attestor.TpmAttestorClient;
import dev.sigil.agent.attestor.TpmTools;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.proto.agent.v1.TpmAnswer;
import dev.sigil.server.agent.attestor.tpm.TpmAttestorPlugin;
import dev.sigil.testkit.MutableClock;
import dev.sigil.testkit.Swtpm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node attestor contract for {@code tpm}, against a software TPM; and its trust level as quotes stop coming. */
class TpmAttestorContractTest extends NodeAttestorContract {
    private static final TrustDomain TD = new TrustDomain("example.org");
    @TempDir
    static Path dir;
    private static Swtpm tpm;
    private static ContinuousAttestor attestor;
    private static final List<TpmTools> opened = new ArrayList<>();

    @BeforeAll
    static void manufacture() throws Exception {
        Swtpm.assumeAvailable();
        tpm = Swtpm.start(Files.createDirectories(dir.resolve("tpm")), dir.resolve("ca"));
        attestor = attestor(Clock.systemUTC());
    }

    private static ContinuousAttestor attestor(Clock clock) throws Exception {
        Path bundle = dir.resolve("ek-cas.pem");
        Files.writeString(bundle, tpm.caBundlePem());
        return (ContinuousAttestor) new TpmAttestorPlugin().create(new TpmAttestorPlugin.Settings(bundle, List.of(), List.of(0, 7, 16),
                List.of(new TpmAttestorPlugin.Policy("golden", Map.of(16, List.of("0".repeat(64))))), Duration.ofSeconds(10)),
                new NodeAttestorPlugin.Context(TD, null, clock, null));
    }

    @AfterAll
    static void scrap() {
        opened.forEach(TpmTools::close);
        if (tpm != null) {
            tpm.close();
        }
    }

    @Override
    protected NodeAttestor server() {
        return attestor;
    }

    @Override
    protected NodeAttestorClient goodClient() {
        TpmTools tools = new TpmTools(tpm.tcti());
        opened.add(tools);
        return new TpmAttestorClient(tools);
    }

    /** The node's own EK and AK, but an answer without the credential the tpm recovered. */
    @Override
    protected NodeAttestorClient impostor() {
        NodeAttestorClient real = goodClient();
        return new NodeAttestorClient() {
            @Override
            public String type() {
                return real.type();
            }

            @Override
            public byte[] evidence() {
                return real.evidence();
            }

            @Override
            public byte[] respond(byte[] challenge) {
                try {
                    TpmAnswer answer = TpmAnswer.parseFrom(real.respond(challenge));
                    return answer.toBuilder().setActivatedSecret(ByteString.copyFrom(new byte[32])).build().toByteArray();
                } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                    throw new AssertionError(e);
                }
            }
        };
    }

    @Override
    protected List<String> secretsOf(NodeAttestorClient client) {
        return List.of();
    }

    @Test
    void overdueQuotesDropTheTrustLevelToZeroAndAFreshQuoteRestoresIt() throws Exception {
        MutableClock clock = MutableClock.at(java.time.Instant.now());
        ContinuousAttestor timed = attestor(clock);
        NodeAttestorClient client = goodClient();
        AttestationStep.Attested attested = (AttestationStep.Attested) drive(timed, client, client.evidence()).result();
        SpiffeId agent = attested.agentId();
        assertThat(timed.trustLevel(agent, 3)).isEqualTo(3);

        clock.advance(Duration.ofSeconds(21));
        assertThat(timed.trustLevel(agent, 3)).as("no quote for more than twice the 10 s interval").isZero();

        byte[] answer = client.continuous().orElseThrow().answer(timed.challenge(agent).orElseThrow());
        assertThat(timed.verify(agent, answer)).isInstanceOf(ContinuousAttestor.Verdict.Accepted.class);
        assertThat(timed.trustLevel(agent, 3)).isEqualTo(3);
        assertThat(timed.verify(agent, answer)).as("the same answer again").isInstanceOfSatisfying(ContinuousAttestor.Verdict.Refused.class,
                refused -> assertThat(refused.reason()).contains("no quote challenge is outstanding"));
        assertThat(timed.trustLevel(SpiffeId.parse("spiffe://example.org/sigil/agent/tpm/unknown"), 3)).isZero();
    }
}
