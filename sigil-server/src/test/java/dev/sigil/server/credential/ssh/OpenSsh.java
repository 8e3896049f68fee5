package dev.sigil.server.credential.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The real OpenSSH tools for tests: a non-daemonising {@code sshd} on a free loopback port trusting a
 * CA file and honouring a revoked keys file, {@code ssh} logins and {@code ssh-keygen}. Runs as the
 * current user (root in CI: then root logs in; otherwise only the current user can).
 *
 * <p>Without {@code /usr/sbin/sshd} the tests are skipped, unless {@code CI} is set: there they fail,
 * since {@code .ci/run} installs openssh-server.
 */
final class OpenSsh implements AutoCloseable {
    static final Path SSHD = Path.of("/usr/sbin/sshd");
    static final String USER = System.getProperty("user.name");

    private final Path directory;
    private final int port;
    private final Process process;

    private OpenSsh(Path directory, int port, Process process) {
        this.directory = directory;
        this.port = port;
        this.process = process;
    }

    /** Skips the calling test when OpenSSH is missing outside CI. */
    static void assumeAvailable() {
        boolean present = Files.isExecutable(SSHD) && Files.isExecutable(Path.of("/usr/bin/ssh"))
                && Files.isExecutable(Path.of("/usr/bin/ssh-keygen"));
        if (System.getenv("CI") != null) {
            assertThat(present).as("openssh-server and openssh-client must be installed under CI (.ci/run installs them)").isTrue();
        }
        Assumptions.assumeTrue(present, "OpenSSH (sshd, ssh, ssh-keygen) is not installed");
    }

    /** Starts sshd in {@code directory} trusting the CA keys in {@code trustedCaKeys}. */
    static OpenSsh start(Path directory, Path trustedCaKeys, Path revokedKeys) throws Exception {
        assumeAvailable();
        Path hostKey = directory.resolve("host_ed25519");
        run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test-host", "-f", hostKey.toString()));
        if ("root".equals(USER)) {
            Files.createDirectories(Path.of("/run/sshd")); // sshd's privilege separation directory
        }
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        Path config = directory.resolve("sshd_config");
        Files.writeString(config, String.join("\n",
                "Port " + port,
                "ListenAddress 127.0.0.1",
                "HostKey " + hostKey,
                "PidFile " + directory.resolve("sshd.pid"),
                "UsePAM no",
                "StrictModes no",
                "AuthorizedKeysFile none",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "PermitRootLogin prohibit-password",
                "TrustedUserCAKeys " + trustedCaKeys,
                "RevokedKeys " + revokedKeys,
                "MaxStartups 100",
                "LogLevel VERBOSE",
                ""));
        Process process = new ProcessBuilder(SSHD.toString(), "-D", "-e", "-f", config.toString())
                .redirectErrorStream(true).redirectOutput(directory.resolve("sshd.log").toFile()).start();
        OpenSsh sshd = new OpenSsh(directory, port, process);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return sshd;
            } catch (IOException e) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    sshd.close();
                    throw new IllegalStateException("sshd did not start: " + sshd.log());
                }
                Thread.sleep(50);
            }
        }
    }

    /** A fresh key pair of {@code type} ({@code ed25519}, {@code ecdsa}, {@code rsa}); returns the private key path. */
    static Path newKey(Path directory, String type) throws Exception {
        Path key = Files.createTempFile(directory, "id_" + type, "");
        Files.delete(key);
        List<String> command = new ArrayList<>(List.of("ssh-keygen", "-q", "-t", type, "-N", "", "-C", "workload", "-f", key.toString()));
        if (type.equals("rsa")) {
            command.addAll(List.of("-b", "2048"));
        }
        run(command);
        return key;
    }

    static String publicKeyLine(Path privateKey) throws IOException {
        return Files.readString(Path.of(privateKey + ".pub")).strip();
    }

    /** Writes {@code certificateLine} beside the key as {@code <key>-cert.pub}. */
    static Path writeCertificate(Path privateKey, String certificateLine) throws IOException {
        Path certificate = Path.of(privateKey + "-cert.pub");
        Files.writeString(certificate, certificateLine + "\n");
        return certificate;
    }

    /** {@code ssh-keygen -L} of a certificate file, in UTC. */
    static String describe(Path certificate) throws Exception {
        return run(List.of("ssh-keygen", "-L", "-f", certificate.toString()));
    }

    /** The SHA256 fingerprint {@code ssh-keygen -l} computes for the first key in {@code publicKeyFile}. */
    static String fingerprint(Path publicKeyFile) throws Exception {
        return run(List.of("ssh-keygen", "-l", "-E", "sha256", "-f", publicKeyFile.toString())).split(" ")[1];
    }

    /** Logs in as {@link #USER} with the key and certificate and runs {@code command}; the result. */
    Login login(Path privateKey, Path certificate, String command) throws Exception {
        if (!process.isAlive()) {
            // a refused login must mean sshd refused it, never that sshd is gone
            throw new IllegalStateException("sshd is not running: " + log());
        }
        Process ssh = new ProcessBuilder("ssh", "-F", "/dev/null", "-i", privateKey.toString(),
                "-o", "CertificateFile=" + certificate, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", "-p", Integer.toString(port),
                USER + "@127.0.0.1", command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        if (!ssh.waitFor(30, TimeUnit.SECONDS)) {
            ssh.destroyForcibly();
            throw new IllegalStateException("ssh did not finish in 30 s");
        }
        return new Login(ssh.exitValue() == 0, new String(ssh.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    record Login(boolean succeeded, String output) {
    }

    String log() {
        try {
            return Files.readString(directory.resolve("sshd.log"));
        } catch (IOException e) {
            return "(no sshd log: " + e.getMessage() + ")";
        }
    }

    private static String run(List<String> command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("TZ", "UTC");
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException(command + " failed: " + output);
        }
        return output;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
