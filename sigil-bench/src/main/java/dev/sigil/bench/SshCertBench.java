package dev.sigil.bench;

import dev.sigil.core.crypto.CryptoProviders;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.credential.LeaseGrant;
import dev.sigil.server.credential.LeaseId;
import dev.sigil.server.credential.ssh.SshBroker;
import dev.sigil.server.credential.ssh.SshBrokerSettings;
import dev.sigil.server.keys.KeyManagers;
import dev.sigil.server.policy.Decision;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * SSH certificate issuance rate next to the one signature it cannot avoid, measured in the same run.
 *
 * <p>One operation of {@code grant} is {@code SshBroker.grant} exactly as the lease service calls it:
 * validate the workload's ed25519 public key, encode an OpenSSH user certificate (two principals,
 * source-address and force-command), sign it with the CA key (ec-p256, in-memory key manager, the
 * server's provider), base64 it and build the details; no revoked keys file. One operation of
 * {@code raw} is one SHA256withECDSA P-256 signature over 256 bytes through the same provider
 * ({@link Primitives}, as {@code MintBenchmark.rawEcdsaP256Sign}).
 *
 * <p>One thread alternates batches of {@code --batch} operations of each, so both see the same load,
 * and times every batch in wall-clock time and in the thread's CPU time. Reports per-operation medians
 * over batches, the rates, and grant/raw ratios; the CPU-time ratio is the one that holds on a busy
 * machine, since other processes' load does not count in it. Target: ratio >= 0.8.
 */
public final class SshCertBench {
    private static final double TARGET = 0.8;

    private SshCertBench() {
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args, Set.of("--seconds", "--warmup-seconds", "--batch"));
        int seconds = options.positiveInt("--seconds", 30);
        int warmup = options.positiveInt("--warmup-seconds", 10);
        int batch = options.positiveInt("--batch", 200);
        System.out.println("signing provider: " + CryptoProviders.describe());

        Primitives primitives = new Primitives();
        SshBroker broker = SshBroker.create(new SshBrokerSettings(Set.of("prod-hosts"), Optional.empty()),
                KeyManagers.memory(), Clock.systemUTC());
        LeaseGrant lease = lease();
        Runnable raw = () -> {
            try {
                primitives.sign();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        };
        Runnable grant = () -> broker.grant(lease);

        run(raw, grant, batch, warmup, new ArrayList<>(), new ArrayList<>());
        List<long[]> rawBatches = new ArrayList<>();
        List<long[]> grantBatches = new ArrayList<>();
        run(raw, grant, batch, seconds, rawBatches, grantBatches);

        double rawWall = median(rawBatches, 0) / batch;
        double rawCpu = median(rawBatches, 1) / batch;
        double grantWall = median(grantBatches, 0) / batch;
        double grantCpu = median(grantBatches, 1) / batch;
        System.out.printf("%d batches of %d operations each, alternating, %d s (after %d s warm-up), one thread%n",
                rawBatches.size(), batch, seconds, warmup);
        System.out.printf("%-24s %12s %12s %14s %14s%n", "operation", "wall us/op", "cpu us/op", "wall ops/s", "cpu ops/s");
        row("raw P-256 sign", rawWall, rawCpu);
        row("ssh certificate grant", grantWall, grantCpu);
        double cpuRatio = rawCpu / grantCpu;
        System.out.printf("grant / raw sign: wall-clock %.2f, cpu-time %.2f  (target >= %.1f on cpu time: %s)%n",
                rawWall / grantWall, cpuRatio, TARGET, cpuRatio >= TARGET ? "met" : "NOT met");
        if (cpuRatio < TARGET) {
            System.exit(1);
        }
    }

    private static void run(Runnable raw, Runnable grant, int batch, int seconds, List<long[]> rawBatches,
                            List<long[]> grantBatches) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            rawBatches.add(time(raw, batch, threads));
            grantBatches.add(time(grant, batch, threads));
        }
    }

    /** Wall-clock and thread CPU nanoseconds of {@code batch} runs. */
    private static long[] time(Runnable operation, int batch, ThreadMXBean threads) {
        long cpu = threads.getCurrentThreadCpuTime();
        long wall = System.nanoTime();
        for (int i = 0; i < batch; i++) {
            operation.run();
        }
        return new long[] {System.nanoTime() - wall, threads.getCurrentThreadCpuTime() - cpu};
    }

    private static double median(List<long[]> batches, int column) {
        long[] values = batches.stream().mapToLong(b -> b[column]).sorted().toArray();
        return values[values.length / 2];
    }

    private static void row(String name, double wallNanos, double cpuNanos) {
        System.out.printf("%-24s %12.1f %12.1f %,14.0f %,14.0f%n", name, wallNanos / 1000, cpuNanos / 1000,
                1e9 / wallNanos, 1e9 / cpuNanos);
    }

    private static LeaseGrant lease() throws GeneralSecurityException {
        Instant now = Instant.now();
        Decision.Obligations obligations = Decision.Obligations.none().withSsh(Optional.of(Set.of("deploy", "ops")),
                Optional.of(List.of("10.0.0.0/8")), Optional.of("/usr/local/bin/deploy"));
        return new LeaseGrant(LeaseId.random(), "ssh", SpiffeId.parse("spiffe://example.org/ci/deployer"),
                Optional.of("t-bench"), "prod-hosts", now, now.plusSeconds(3600), List.of(), obligations,
                Map.of("public_key", ed25519PublicKeyLine()));
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
}
