package dev.sigil.cli;

import dev.sigil.core.crypto.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Writes a Workload API answer as files, in spire-agent's layout ({@code spire-agent api fetch x509 -write}):
 * for the n-th SVID {@code svid.<n>.pem} (the chain, leaf first), {@code svid.<n>.key} (its private key,
 * PKCS#8 PEM, mode 0600), {@code bundle.<n>.pem} (its trust domain's roots) and
 * {@code federated_bundle.<n>.<m>.pem} for each federated bundle, sorted by trust domain. This is the
 * only path on which the CLI exports private keys from the Workload API.
 */
final class SvidFiles {
    private static final String PUBLIC = "rw-r--r--";
    private static final String OWNER_ONLY = "rw-------";

    private SvidFiles() {
    }

    /** Writes every file atomically and returns their names in the order written. */
    static List<String> write(Path dir, List<FetchX509Command.Svid> svids, Map<String, List<X509Certificate>> federated) {
        List<String> written = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            for (int n = 0; n < svids.size(); n++) {
                FetchX509Command.Svid svid = svids.get(n);
                written.add(file(dir, "svid." + n + ".pem", Pem.encodeCertificates(svid.chain()), PUBLIC));
                written.add(writePrivateKey(dir, "svid." + n + ".key", svid.source().getX509SvidKey().toByteArray()));
                written.add(file(dir, "bundle." + n + ".pem", Pem.encodeCertificates(svid.bundle()), PUBLIC));
                int m = 0;
                for (List<X509Certificate> roots : federated.values()) {
                    written.add(file(dir, "federated_bundle." + n + "." + m++ + ".pem", Pem.encodeCertificates(roots), PUBLIC));
                }
            }
        } catch (IOException e) {
            throw new CliException("cannot write the svid files to " + dir.toAbsolutePath() + ": " + e.getMessage(), 1, e);
        }
        return written;
    }

    /** The private key as a PKCS#8 {@code PRIVATE KEY} PEM block, owner-only; {@code pkcs8} is zeroed after use. */
    private static String writePrivateKey(Path dir, String name, byte[] pkcs8) throws IOException {
        if (pkcs8.length == 0) {
            throw new CliException("the workload api sent an x509-svid without its private key; " + name + " was not written");
        }
        try {
            String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pkcs8);
            return file(dir, name, "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n", OWNER_ONLY);
        } finally {
            Arrays.fill(pkcs8, (byte) 0);
        }
    }

    private static String file(Path dir, String name, String content, String permissions) throws IOException {
        AtomicFiles.replace(dir.resolve(name), content, permissions);
        return name;
    }
}
