package dev.sigil.bench;

import dev.sigil.core.crypto.CryptoProviders;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.credential.Granted;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.credential.ssh.SshBroker;
import dev.sigil.server.credential.ssh.SshBrokerSettings;
import dev.sigil.server.keys.KeyManagers;
import dev.sigil.server.policy.Decision;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * SSH certificate issuance next to the one signature it cannot avoid. {@link #sshCertificateGrant} is
 * {@code SshBroker.grant} exactly as the lease service calls it: validate the workload's ed25519 public
 * key, encode an OpenSSH user certificate (two principals, source-address and force-command), sign it
 * with the CA key (ec-p256, in-memory key manager, the server's provider) and base64 it; no revoked
 * keys file. {@link #rawEcdsaP256Sign} is one P-256 signature through the same provider.
 *
 * <p>{@link #main} runs both with any JMH options, several rounds, and prints the ratio of each round
 * and their median; target >= 0.8. Exits 0 either way: runs on shared machines are too noisy to gate on.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
public class SshCertBench {
    private static final double TARGET = 0.8;

    private Primitives primitives;
    private SshBroker broker;
    private LeaseGrant lease;

    @Setup(Level.Trial)
    public void setUp() throws GeneralSecurityException {
        System.out.println("signing provider: " + CryptoProviders.describe());
        primitives = new Primitives();
        broker = SshBroker.create(new SshBrokerSettings(Set.of("prod-hosts"), Optional.empty()), KeyManagers.memory(),
                Clock.systemUTC());
        Instant now = Instant.now();
        Decision.Obligations obligations = Decision.Obligations.none().withSsh(Optional.of(Set.of("deploy", "ops")),
                Optional.of(List.of("10.0.0.0/8")), Optional.of("/usr/local/bin/deploy"));
        lease = new LeaseGrant(LeaseId.random(), "ssh", SpiffeId.parse("spiffe://example.org/ci/deployer"),
                Optional.of("t-bench"), "prod-hosts", now, now.plusSeconds(600), List.of(), obligations,
                Map.of("public_key", ed25519PublicKeyLine()));
    }

    @Benchmark
    public byte[] rawEcdsaP256Sign() throws GeneralSecurityException {
        return primitives.sign();
    }

    @Benchmark
    public Granted sshCertificateGrant() {
        return broker.grant(lease);
    }

    /** A workload's {@code ssh-ed25519 AAAA...} line, made with the JDK. */
    private static String ed25519PublicKeyLine() throws GeneralSecurityException {
        byte[] spki = KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic().getEncoded();
        ByteArrayOutputStream blob = new ByteArrayOutputStream();
        for (byte[] field : List.of("ssh-ed25519".getBytes(StandardCharsets.US_ASCII),
                Arrays.copyOfRange(spki, spki.length - 32, spki.length))) {
            blob.write(field.length >>> 24);
            blob.write(field.length >>> 16);
            blob.write(field.length >>> 8);
            blob.write(field.length);
            blob.writeBytes(field);
        }
        return "ssh-ed25519 " + Base64.getEncoder().encodeToString(blob.toByteArray()) + " bench";
    }

    /**
     * Runs both benchmarks {@code --rounds} times (default 3) with the given JMH options, printing the
     * ratio of each round (both measured back to back, so they share the machine's load) and the median.
     */
    public static void main(String[] args) throws Exception {
        int rounds = 3;
        List<String> jmhArgs = new java.util.ArrayList<>(List.of(args));
        int at = jmhArgs.indexOf("--rounds");
        if (at >= 0) {
            rounds = Integer.parseInt(jmhArgs.get(at + 1));
            jmhArgs.subList(at, at + 2).clear();
        }
        List<double[]> measured = new java.util.ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            var options = new OptionsBuilder()
                    .parent(new CommandLineOptions(jmhArgs.toArray(String[]::new)))
                    .include(SshCertBench.class.getName() + "\\.")
                    .build();
            Collection<RunResult> results = new Runner(options).run();
            Map<String, Double> scores = results.stream().collect(Collectors.toMap(
                    result -> {
                        String name = result.getParams().getBenchmark();
                        return name.substring(name.lastIndexOf('.') + 1);
                    },
                    result -> result.getPrimaryResult().getScore()));
            Double grant = scores.get("sshCertificateGrant");
            Double raw = scores.get("rawEcdsaP256Sign");
            if (grant == null || raw == null) {
                System.out.println("sshCertificateGrant / rawEcdsaP256Sign: not measured in this run");
                return;
            }
            measured.add(new double[] {grant, raw, grant / raw});
        }
        System.out.println();
        for (int round = 0; round < measured.size(); round++) {
            double[] m = measured.get(round);
            System.out.printf("round %d: sshCertificateGrant / rawEcdsaP256Sign = %,9.0f / %,9.0f ops/s = %.2f%n",
                    round + 1, m[0], m[1], m[2]);
        }
        double median = measured.stream().mapToDouble(m -> m[2]).sorted().skip((measured.size() - 1) / 2).findFirst().orElseThrow();
        System.out.printf("median ratio %.2f  (target >= %.1f: %s)%n", median, TARGET, median >= TARGET ? "met" : "NOT met");
    }
}
