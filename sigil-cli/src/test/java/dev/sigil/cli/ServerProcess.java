package dev.sigil.cli;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A real {@code sigil server run} in its own JVM, as an operator would start it, on a given data
 * directory and a free loopback port for the bundle endpoint. {@link #kill()} is a kill -9.
 */
final class ServerProcess implements AutoCloseable {
    private final Process process;
    private final Path log;
    final Path dataDir;
    final int bundlePort;
    final int tokenPort;
    final int agentApiPort;

    private ServerProcess(Process process, Path log, Path dataDir, int bundlePort, int tokenPort, int agentApiPort) {
        this.agentApiPort = agentApiPort;
        this.process = process;
        this.log = log;
        this.dataDir = dataDir;
        this.bundlePort = bundlePort;
        this.tokenPort = tokenPort;
    }

    static ServerProcess start(Path dataDir, Path home) throws IOException {
        return start(dataDir, home, java.util.Optional.empty(), freePort(), freePort());
    }

    /** With a configuration file, and given ports, so a restarted server keeps its URLs. */
    static ServerProcess start(Path dataDir, Path home, java.util.Optional<Path> config, int port, int tokenPort) throws IOException {
        Files.createDirectories(home);
        Path log = Files.createTempFile(home, "server", ".log");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "server", "run", "--data-dir", dataDir.toString()));
        config.ifPresent(file -> command.addAll(List.of("--config", file.toString())));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        int agentApiPort = freePort();
        builder.environment().putAll(Map.of("SIGIL_BUNDLE_PORT", Integer.toString(port),
                "SIGIL_AGENT_API_PORT", Integer.toString(agentApiPort), "SIGIL_TOKEN_PORT", Integer.toString(tokenPort), "SIGIL_LOG_LEVEL", "info"));
        return new ServerProcess(builder.start(), log, dataDir, port, tokenPort, agentApiPort);
    }

    /** Waits until the CLI's healthcheck passes, or fails with the server's log. */
    void awaitHealthy(CliHarness cli, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("server exited with " + process.exitValue() + ":\n" + log());
            }
            if (cli.run("healthcheck", "--data-dir", dataDir.toString()).exitCode() == 0) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("server did not become healthy within " + timeout + ":\n" + log());
    }

    String log() throws IOException {
        return Files.readString(log);
    }

    /** The server's admin socket (the default under its data directory). */
    Path adminSocket() {
        return dataDir.resolve("admin/admin.sock");
    }

    /** The server's process id (its job leadership names it: host/pid/random). */
    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
            kill();
        }
    }

    /** The X.509 roots of the bundle the server at {@code dataDir} serves ({@code sigil bundle show}). */
    static List<java.security.cert.X509Certificate> bundleRoots(CliHarness cli, Path dataDir) throws Exception {
        String pem = cli.run("bundle", "show", "--data-dir", dataDir.toString(), "--format", "pem").out();
        List<java.security.cert.X509Certificate> roots = new ArrayList<>();
        for (var certificate : java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificates(new java.io.ByteArrayInputStream(pem.getBytes(java.nio.charset.StandardCharsets.US_ASCII)))) {
            roots.add((java.security.cert.X509Certificate) certificate);
        }
        return roots;
    }

    /** An HTTPS client trusting {@code roots} (servers' SVIDs name {@code localhost}), no client certificate. */
    static java.net.http.HttpClient httpsTrusting(List<java.security.cert.X509Certificate> roots) throws Exception {
        java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
        store.load(null, null);
        for (int i = 0; i < roots.size(); i++) {
            store.setCertificateEntry("root" + i, roots.get(i));
        }
        javax.net.ssl.TrustManagerFactory factory = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        factory.init(store);
        javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return java.net.http.HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(5)).build();
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
