package dev.sigil.server.authority;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.crypto.CryptoProviders;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.keys.KeyManagers;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Single-thread mint throughput against the raw cost of the signatures it needs, on the same
 * provider. Not part of the normal run: {@code -Dtest=MintThroughputTest -Dsigil.bench=true}.
 * Targets: X.509 mint from a CSR at least 0.6x of (one ECDSA P-256 verify + one sign); JWT mint at
 * least 0.7x of one ES256 sign.
 */
@EnabledIfSystemProperty(named = "sigil.bench", matches = "true")
class MintThroughputTest {
    private static final int ROUNDS = 10;
    private static final int WARM_UP_ROUNDS = 3;
    private static final Duration ROUND = Duration.ofMillis(700);

    @TempDir
    Path temp;

    @Test
    void mintingKeepsUpWithTheRawSignatures() throws Exception {
        try (Datastore datastore = TestStores.sqlite(temp)) {
            Authority authority = Authority.start(AuthorityConfig.defaults(TrustDomain.parse("example.org")), datastore,
                    KeyManagers.memory(), Clock.systemUTC(), RotationListener.none());
            SpiffeId id = SpiffeId.parse("spiffe://example.org/bench/workload");
            byte[] csr = TestCsrs.csr(TestCsrs.ec("secp256r1"));
            Audience audience = Audience.of("https://api.example.org");

            KeyPairGenerator generator = CryptoProviders.keyPairGenerator("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair pair = generator.generateKeyPair();
            Signature signer = CryptoProviders.signature("SHA256withECDSA");
            signer.initSign(pair.getPrivate());
            Signature verifier = CryptoProviders.signature("SHA256withECDSA");
            byte[] data = new byte[400];
            signer.update(data);
            byte[] signature = signer.sign();

            BooleanSupplier rawVerifyAndSign = () -> {
                try {
                    verifier.initVerify(pair.getPublic());
                    verifier.update(data);
                    boolean ok = verifier.verify(signature);
                    signer.update(data);
                    return ok && signer.sign().length > 0;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            };
            BooleanSupplier x509Mint = () -> authority.mintX509Svid(id, csr, Duration.ofHours(1), List.of()).chainDer().size() == 1;
            BooleanSupplier rawSign = () -> {
                try {
                    signer.update(data, 0, 250);
                    return signer.sign().length > 0;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            };
            BooleanSupplier jwtMint = () -> !authority.mintJwtSvid(id, audience, Duration.ofMinutes(5)).token().isEmpty();
            // interleaved rounds, best of each: other load on the machine hits both sides of a ratio alike
            double[] best = new double[4];
            BooleanSupplier[] operations = {rawVerifyAndSign, x509Mint, rawSign, jwtMint};
            for (int round = 0; round < ROUNDS; round++) {
                for (int i = 0; i < operations.length; i++) {
                    double rate = run(operations[i], ROUND);
                    if (round >= WARM_UP_ROUNDS) {
                        best[i] = Math.max(best[i], rate);
                    }
                }
            }
            double x509 = best[1] / best[0];
            double jwt = best[3] / best[2];
            System.out.printf("provider: %s%n", CryptoProviders.describe());
            System.out.printf("raw verify+sign %.0f/s, x509 mint %.0f/s, ratio %.2f (target >= 0.6)%n", best[0], best[1], x509);
            System.out.printf("raw ES256 sign %.0f/s, jwt mint %.0f/s, ratio %.2f (target >= 0.7)%n", best[2], best[3], jwt);
            assertThat(x509).isGreaterThanOrEqualTo(0.6);
            assertThat(jwt).isGreaterThanOrEqualTo(0.7);
        }
    }

    private static double run(BooleanSupplier operation, Duration duration) {
        long end = System.nanoTime() + duration.toNanos();
        long count = 0;
        long started = System.nanoTime();
        while (System.nanoTime() < end) {
            for (int i = 0; i < 100; i++) {
                if (!operation.getAsBoolean()) {
                    throw new IllegalStateException("operation failed");
                }
            }
            count += 100;
        }
        return count / ((System.nanoTime() - started) / 1e9);
    }
}
