package dev.sigil.bench;

import dev.sigil.core.crypto.KeyType;
import dev.sigil.server.keys.KeyHandle;
import dev.sigil.server.keys.KeyManager;
import dev.sigil.server.keys.KeyManagerPlugin;
import dev.sigil.server.keys.KeyManagers;
import dev.sigil.server.keys.Pkcs11KeyManagerPlugin;
import java.nio.file.Path;
import java.util.concurrent.atomic.LongAdder;

/**
 * Signatures per second through Sigil's key managers, as the CA (one per minted X.509-SVID) and the JWT
 * key (one per JWT-SVID or access token) use them: {@code pkcs11} (a SoftHSM2 or HSM token) against
 * {@code memory} (software keys through the server's crypto provider), per key type, with 1 and with
 * {@code --threads} signing threads. See bench/README.md section 14.
 *
 * <pre>java -cp sigil-bench.jar dev.sigil.bench.KeyManagerSignBench --library /usr/lib/softhsm/libsofthsm2.so --pin-file PIN [--seconds 5] [--threads 2]</pre>
 */
public final class KeyManagerSignBench {
    private KeyManagerSignBench() {
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args, java.util.Set.of("--library", "--pin-file", "--seconds", "--threads", "--slot-list-index"));
        Path library = Path.of(options.string("--library", "/usr/lib/softhsm/libsofthsm2.so"));
        Path pinFile = Path.of(options.string("--pin-file", ""));
        int seconds = options.positiveInt("--seconds", 5);
        int threads = options.positiveInt("--threads", 2);
        KeyManager hsm = new Pkcs11KeyManagerPlugin().create(new Pkcs11KeyManagerPlugin.Settings(library, Integer.parseInt(options.string("--slot-list-index", "0")),
                pinFile), new KeyManagerPlugin.Context(Path.of("/nonexistent")));
        KeyManager software = KeyManagers.memory();
        for (KeyType type : new KeyType[] {KeyType.EC_P256, KeyType.RSA_2048}) {
            KeyHandle inToken = hsm.generate("bench-" + type.configName(), type);
            KeyHandle inMemory = software.generate("bench-" + type.configName(), type);
            for (int n : new int[] {1, threads}) {
                double token = rate(inToken, n, seconds);
                double memory = rate(inMemory, n, seconds);
                System.out.printf("%-9s %d thread(s): pkcs11 %,10.0f signs/s   memory %,10.0f signs/s   pkcs11/memory %.2f%n",
                        type.configName(), n, token, memory, token / memory);
            }
            hsm.delete(inToken.id());
        }
    }

    private static double rate(KeyHandle key, int threads, int seconds) throws InterruptedException {
        byte[] data = new byte[256];
        long warmUntil = System.nanoTime() + 1_000_000_000L;
        while (System.nanoTime() < warmUntil) {
            key.sign(data);
        }
        LongAdder signed = new LongAdder();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        Thread[] workers = new Thread[threads];
        long start = System.nanoTime();
        for (int i = 0; i < threads; i++) {
            workers[i] = Thread.ofPlatform().start(() -> {
                while (System.nanoTime() < end) {
                    key.sign(data);
                    signed.increment();
                }
            });
        }
        for (Thread worker : workers) {
            worker.join();
        }
        return signed.sum() / ((System.nanoTime() - start) / 1e9);
    }
}
