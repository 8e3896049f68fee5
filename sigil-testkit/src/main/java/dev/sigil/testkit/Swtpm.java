package dev.sigil.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A software TPM 2.0 for tests: {@code swtpm_setup} manufactures it (RSA and ECC EKs with certificates
 * issued by a local test CA in {@code caDir}, created on first use by {@code swtpm_localca}, and a
 * platform certificate), then {@code swtpm socket} serves it on 127.0.0.1 (TCTI {@link #tcti()}) until
 * {@link #close()}. Several TPMs made with the same {@code caDir} share a manufacturer CA; another dir is
 * another (untrusted) manufacturer.
 *
 * <p>{@link #assumeAvailable()}: without swtpm and tpm2-tools a test fails when {@code CI=true} and is
 * skipped with the reason otherwise.
 */
public final class Swtpm implements AutoCloseable {
    private static final List<String> PROGRAMS = List.of("swtpm", "swtpm_setup", "swtpm_localca", "tpm2_quote", "tpm2_createek",
            "tpm2_activatecredential", "tpm2_pcrextend");

    private final Process process;
    private final int port;
    private final Path caDir;

    private Swtpm(Process process, int port, Path caDir) {
        this.process = process;
        this.port = port;
        this.caDir = caDir;
    }

    /** Fails (CI) or skips (elsewhere) the calling test when swtpm or tpm2-tools are not installed. */
    public static void assumeAvailable() {
        List<String> missing = PROGRAMS.stream().filter(name -> !onPath(name)).toList();
        if (missing.isEmpty()) {
            return;
        }
        String reason = "software tpm tests need swtpm, swtpm-tools and tpm2-tools; missing " + missing
                + " (apt-get install swtpm swtpm-tools tpm2-tools)";
        if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError(reason);
        }
        Assumptions.assumeTrue(false, reason);
    }

    /** Manufactures a TPM in {@code dir} whose EK certificates are issued by the test CA in {@code caDir}, and serves it. */
    public static Swtpm start(Path dir, Path caDir) throws Exception {
        Path state = Files.createDirectories(dir.resolve("state"));
        Files.createDirectories(caDir);
        Path localca = dir.resolve("localca.conf");
        Files.writeString(localca, "statedir = " + caDir + "\nsigningkey = " + caDir.resolve("signkey.pem") + "\nissuercert = "
                + caDir.resolve("issuercert.pem") + "\ncertserial = " + caDir.resolve("certserial") + "\n");
        Path options = dir.resolve("localca.options");
        Files.writeString(options, "--platform-manufacturer Sigil\n--platform-version 2.1\n--platform-model Test\n");
        Path setup = dir.resolve("swtpm_setup.conf");
        Files.writeString(setup, "create_certs_tool = swtpm_localca\ncreate_certs_tool_config = " + localca
                + "\ncreate_certs_tool_options = " + options + "\nactive_pcr_banks = sha256\n");
        synchronized (Swtpm.class) { // swtpm_localca creates the CA on first use; one at a time
            run(dir, "swtpm_setup", "--tpm2", "--tpmstate", state.toString(), "--create-ek-cert",
                    "--config", setup.toString(), "--overwrite");
        }
        for (int attempt = 0; ; attempt++) {
            int port = freePortPair();
            Process process = new ProcessBuilder("swtpm", "socket", "--tpm2",
                    "--server", "type=tcp,port=" + port + ",bindaddr=127.0.0.1",
                    "--ctrl", "type=tcp,port=" + (port + 1) + ",bindaddr=127.0.0.1",
                    "--tpmstate", "dir=" + state, "--flags", "not-need-init,startup-clear")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("swtpm.log").toFile()).start();
            try {
                Eventually.within(Duration.ofSeconds(5), () -> {
                    if (!process.isAlive()) {
                        return;
                    }
                    try (Socket socket = new Socket()) {
                        socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                    }
                });
            } catch (Exception e) {
                process.destroyForcibly();
                throw e;
            }
            if (process.isAlive()) {
                return new Swtpm(process, port, caDir);
            }
            if (attempt == 3) {
                throw new IllegalStateException("swtpm did not start: " + Files.readString(dir.resolve("swtpm.log")));
            }
        }
    }

    /** The TCTI naming this TPM for tpm2-tools. */
    public String tcti() {
        return "swtpm:host=127.0.0.1,port=" + port;
    }

    /** The manufacturer CA certificates (root and issuing CA), PEM: what a server's ek_ca_bundle_file holds. */
    public String caBundlePem() throws IOException {
        return Files.readString(caDir.resolve("swtpm-localca-rootca-cert.pem")) + Files.readString(caDir.resolve("issuercert.pem"));
    }

    /** Extends a SHA-256 bank PCR with {@code digest} (64 hex digits), as measured boot would. */
    public void extendPcr(int pcr, String digest) throws Exception {
        runTool("tpm2_pcrextend", pcr + ":sha256=" + digest);
    }

    /** Runs a tpm2-tools command against this TPM; returns its output. */
    public String runTool(String... command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("TPM2TOOLS_TCTI", tcti());
        Process tool = builder.start();
        String output = new String(tool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!tool.waitFor(30, TimeUnit.SECONDS) || tool.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
        }
        return output;
    }

    private static void run(Path dir, String... command) throws Exception {
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
        }
    }

    private static int freePortPair() throws IOException {
        for (int i = 0; i < 20; i++) {
            int port;
            try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                port = socket.getLocalPort();
            }
            if (port < 65535) {
                try (ServerSocket next = new ServerSocket(port + 1, 1, java.net.InetAddress.getLoopbackAddress())) {
                    return port;
                } catch (IOException taken) {
                    // try another pair
                }
            }
        }
        throw new IOException("no free pair of loopback ports for swtpm");
    }

    private static boolean onPath(String name) {
        String path = System.getenv("PATH");
        List<String> dirs = new ArrayList<>(List.of(path == null ? new String[0] : path.split(":")));
        dirs.add("/usr/bin");
        return dirs.stream().anyMatch(dir -> Files.isExecutable(Path.of(dir, name)));
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
