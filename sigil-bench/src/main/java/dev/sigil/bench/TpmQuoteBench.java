package dev.sigil.bench;

import dev.sigil.agent.attestor.TpmAttestorClient;
import dev.sigil.agent.attestor.TpmTools;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.agent.attestor.AttestationStep;
import dev.sigil.server.agent.attestor.ContinuousAttestor;
import dev.sigil.server.agent.attestor.tpm.TpmAttestor;
import dev.sigil.server.agent.attestor.tpm.TpmAttestorPlugin;
import dev.sigil.testkit.Swtpm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * TPM attestation costs with a software TPM (swtpm, tpm2-tools): the node's side of one attestation (EK
 * and AK creation, credential activation, quote: what an agent start spends before its SVID), one quote
 * round, and the server's quote verifications per second on one thread (one core): the server's side of
 * continuous attestation, signature, TPMS_ATTEST parsing, PCR digest and policy. The server's nonces
 * are fixed here so one quote can be verified repeatedly. See bench/README.md section 19.
 *
 * <pre>java -cp sigil-bench.jar dev.sigil.bench.TpmQuoteBench [--seconds 5] [--rounds 5]</pre>
 */
public final class TpmQuoteBench {
    private TpmQuoteBench() {
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args, java.util.Set.of("--seconds", "--rounds"));
        int seconds = options.positiveInt("--seconds", 5);
        int rounds = options.positiveInt("--rounds", 5);
        Path dir = Files.createTempDirectory("sigil-tpm-bench");
        try (Swtpm tpm = Swtpm.start(Files.createDirectories(dir.resolve("tpm")), dir.resolve("ca"));
             TpmTools tools = new TpmTools(tpm.tcti())) {
            Path bundle = dir.resolve("ek-cas.pem");
            Files.writeString(bundle, tpm.caBundlePem());
            TpmAttestor attestor = TpmAttestorPlugin.attestor(new TpmAttestorPlugin.Settings(bundle, List.of(), List.of(0, 1, 2, 3, 4, 5, 6, 7),
                    List.of(new TpmAttestorPlugin.Policy("golden", Map.of(7, List.of("0".repeat(64))))), Duration.ofSeconds(10)),
                    new TrustDomain("example.org"), Clock.systemUTC(), new FixedRandom());
            TpmAttestorClient client = new TpmAttestorClient(tools);

            long[] attest = new long[rounds];
            SpiffeId agent = null;
            for (int i = 0; i < rounds; i++) {
                long start = System.nanoTime();
                AttestationStep step = attestor.begin(client.evidence(), "bench");
                step = ((AttestationStep.Challenge) step).answer(client.respond(((AttestationStep.Challenge) step).challenge()));
                attest[i] = System.nanoTime() - start;
                agent = ((AttestationStep.Attested) step).agentId();
            }
            long[] quote = new long[rounds];
            byte[] answer = null;
            for (int i = 0; i < rounds; i++) {
                long start = System.nanoTime();
                answer = client.answer(attestor.challenge(agent).orElseThrow());
                if (!(attestor.verify(agent, answer) instanceof ContinuousAttestor.Verdict.Accepted)) {
                    throw new IllegalStateException("the quote was not accepted");
                }
                quote[i] = System.nanoTime() - start;
            }
            System.out.printf("attestation (node + server, in process): median %d ms, max %d ms over %d rounds%n",
                    median(attest) / 1_000_000, Arrays.stream(attest).max().orElseThrow() / 1_000_000, rounds);
            System.out.printf("quote round (challenge, tpm2_quote, verify): median %d ms%n", median(quote) / 1_000_000);

            long warmUntil = System.nanoTime() + 2_000_000_000L;
            while (System.nanoTime() < warmUntil) {
                verify(attestor, agent, answer);
            }
            long verified = 0;
            long start = System.nanoTime();
            long end = start + seconds * 1_000_000_000L;
            while (System.nanoTime() < end) {
                verify(attestor, agent, answer);
                verified++;
            }
            System.out.printf("server quote verifications: %,.0f per second on one thread%n", verified / ((System.nanoTime() - start) / 1e9));
        }
    }

    private static void verify(TpmAttestor attestor, SpiffeId agent, byte[] answer) {
        attestor.challenge(agent).orElseThrow();
        if (!(attestor.verify(agent, answer) instanceof ContinuousAttestor.Verdict.Accepted)) {
            throw new IllegalStateException("the quote was not accepted");
        }
    }

    private static long median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    /** Every nonce (and every credential seed) the same: lets one recorded quote answer every challenge. Bench only. */
    private static final class FixedRandom extends SecureRandom {
        @Override
        public void nextBytes(byte[] bytes) {
            Arrays.fill(bytes, (byte) 0x5a);
        }
    }
}
