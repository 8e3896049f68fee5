package dev.sigil.server.keys;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One SoftHSM2 token for the tests of this JVM, made with the real {@code softhsm2-util} (Debian package
 * softhsm2, which .ci/run installs) under the directory {@code SOFTHSM2_CONF} names (set by the module's
 * Surefire configuration): label {@code sigil-test}, user PIN {@value #PIN}.
 */
final class SoftHsm {
    static final Path LIBRARY = Path.of("/usr/lib/softhsm/libsofthsm2.so");
    static final String PIN = "1234-test";
    private static Path pinFile;

    private SoftHsm() {
    }

    /** The token's PIN file, creating the token on first use. */
    static synchronized Path token() throws IOException, InterruptedException {
        if (pinFile != null) {
            return pinFile;
        }
        String conf = System.getenv("SOFTHSM2_CONF");
        if (conf == null) {
            throw new IllegalStateException("SOFTHSM2_CONF is not set; run the tests through Maven (sigil-server/pom.xml sets it)");
        }
        if (!Files.isReadable(LIBRARY)) {
            throw new IllegalStateException(LIBRARY + " is missing: apt-get install softhsm2 (.ci/run installs it)");
        }
        Path dir = Path.of(conf).getParent();
        Path tokens = Files.createDirectories(dir.resolve("tokens"));
        try (var old = Files.list(tokens)) {
            for (Path path : old.toList()) {
                deleteRecursively(path);
            }
        }
        Files.writeString(Path.of(conf), "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n"
                + "slots.removable = false\n", StandardCharsets.UTF_8);
        Process init = new ProcessBuilder(List.of("softhsm2-util", "--init-token", "--free", "--label", "sigil-test", "--pin", PIN,
                "--so-pin", "5678-test")).redirectErrorStream(true).start();
        String output = new String(init.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!init.waitFor(30, TimeUnit.SECONDS) || init.exitValue() != 0) {
            throw new IllegalStateException("softhsm2-util --init-token failed: " + output);
        }
        pinFile = Files.writeString(dir.resolve("pin"), PIN + "\n");
        return pinFile;
    }

    private static void deleteRecursively(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            try (var children = Files.list(path)) {
                for (Path child : children.toList()) {
                    deleteRecursively(child);
                }
            }
        }
        Files.delete(path);
    }
}
