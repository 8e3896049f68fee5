package dev.sigil.bench;

import dev.sigil.testkit.PostgresServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code bin/sigil server run} processes as users start them, for the load drivers that measure several
 * servers on one PostgreSQL: the shared configuration, start, health, the CLI, and CPU and memory from
 * /proc. Run from the repository root (it starts {@code bin/sigil}).
 */
final class ServerProcesses {
    private ServerProcesses() {}

    /** A started server: its process (the JVM itself, the launcher execs it), data directory and ports. */
    record Server(Process process, Path data, int tokenPort, int agentApiPort) {
        /** The admin API socket at its default place under the data directory. */
        Path adminSocket() {
            return data.resolve("admin").resolve("admin.sock");
        }
    }

    /** {@code bin/sigil} under the current directory; fails unless run from the repository root. */
    static Path sigil() {
        Path sigil = Path.of("bin/sigil").toAbsolutePath();
        if (!Files.isExecutable(sigil)) {
            throw new IllegalStateException("run from the repository root: " + sigil + " is not there");
        }
        return ready(sigil);
    }

    /**
     * Returns {@code sigil} once its distribution is up to date: one {@code sigil --version} lets the launcher
     * rebuild a stale checkout before anything is timed. Every process {@link #command} starts afterwards skips
     * that check, so a source edited while a bench runs cannot rebuild the distribution in the middle of it.
     */
    static Path ready(Path sigil) {
        try {
            // the launcher's "building the distribution" message and a failed build's reason reach the user
            ProcessBuilder builder = new ProcessBuilder(sigil.toString(), "--version").redirectError(ProcessBuilder.Redirect.INHERIT)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD);
            builder.environment().remove("SIGIL_JAVA_OPTS"); // meant for the server (a recording, a GC log), not the CLI
            Process version = builder.start();
            if (version.waitFor() != 0) {
                throw new IllegalStateException(sigil + " --version failed; build the checkout first (./mvnw -pl sigil-cli -am package)");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + sigil + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking " + sigil, e);
        }
        return sigil;
    }

    /** {@code sigil args...} as a process to start, with the launcher's rebuild check off (see {@link #ready}). */
    static ProcessBuilder command(Path sigil, String... args) {
        List<String> command = new ArrayList<>(List.of(sigil.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("SIGIL_NO_BUILD", "1");
        return builder;
    }

    /**
     * Writes {@code dir/sigil.yaml} for servers sharing {@code database}: one issuer, {@code ca.join_delay: 1s}
     * and one {@code audit.hmac_key_file} (32 random bytes, mode 0600), so that every server is a member of one cluster.
     */
    static Path writeConfig(Path dir, PostgresServer.Database database, String issuer) throws IOException {
        Files.createDirectories(dir);
        Path key = dir.resolve("audit-hmac.key");
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        Files.write(key, random);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        Path config = dir.resolve("sigil.yaml");
        Files.writeString(config, """
                trust_domain: example.org
                log_level: warn
                datastore:
                  type: postgresql
                  url: "%s"
                  user: %s
                  password: "%s"
                jwt:
                  issuer: %s
                ca:
                  join_delay: 1s
                audit:
                  hmac_key_file: %s
                """.formatted(database.jdbcUrl(), database.user(), database.password(), issuer, key));
        return config;
    }

    /**
     * Writes {@code dir/sigil.yaml} for one server on its embedded SQLite datastore (the default: a file in
     * its data directory, WAL, {@code synchronous=FULL}), with {@code issuer}.
     */
    static Path writeSqliteConfig(Path dir, String issuer) throws IOException {
        Files.createDirectories(dir);
        Path config = dir.resolve("sigil.yaml");
        Files.writeString(config, """
                trust_domain: example.org
                log_level: warn
                jwt:
                  issuer: %s
                """.formatted(issuer));
        return config;
    }

    /** Starts server {@code index} with its own data directory and free ports; its output goes to {@code dir/server<index>.log}. */
    static Server start(Path sigil, Path dir, Path config, int index) throws IOException {
        Path data = dir.resolve("server" + index);
        int tokenPort = freePort();
        int agentApiPort = freePort();
        ProcessBuilder builder = command(sigil, "server", "run", "--config", config.toString(), "--data-dir",
                data.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("server" + index + ".log").toFile());
        builder.environment().putAll(Map.of("SIGIL_BUNDLE_PORT", Integer.toString(freePort()), "SIGIL_AGENT_API_PORT",
                Integer.toString(agentApiPort), "SIGIL_TOKEN_PORT", Integer.toString(tokenPort)));
        return new Server(builder.start(), data, tokenPort, agentApiPort);
    }

    static void awaitHealthy(Path sigil, Server server) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!server.process().isAlive()) {
                throw new IllegalStateException("server exited; see " + server.data().getParent());
            }
            ProcessBuilder builder = command(sigil, "healthcheck", "--data-dir", server.data().toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            builder.environment().remove("SIGIL_JAVA_OPTS"); // meant for the server (a recording, a GC log), not the CLI
            Process check = builder.start();
            if (check.waitFor() == 0) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("server did not become healthy within 120 s");
    }

    static void stop(List<Server> servers) throws InterruptedException {
        for (Server server : servers) {
            server.process().destroy();
            if (!server.process().waitFor(10, TimeUnit.SECONDS)) {
                server.process().destroyForcibly();
            }
        }
    }

    /** Runs {@code bin/sigil args...}; returns its standard output, fails on a non-zero exit. */
    static String cli(Path sigil, String... args) throws Exception {
        ProcessBuilder builder = command(sigil, args).redirectError(ProcessBuilder.Redirect.INHERIT);
        builder.environment().remove("SIGIL_JAVA_OPTS"); // meant for the server (a recording, a GC log), not the CLI
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IllegalStateException("sigil " + String.join(" ", args) + " failed");
        }
        return out;
    }

    /** User plus system CPU time of a process, in microseconds (from /proc/PID/stat, clock ticks of 10 ms). */
    static long cpuMicros(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10_000L;
        } catch (IOException e) {
            return 0;
        }
    }

    /** Resident set size of a process in KiB (VmRSS from /proc/PID/status), 0 when it is gone. */
    static long rssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            // gone
        }
        return 0;
    }

    /**
     * CPU of one PostgreSQL server: its postmaster (with the CPU of the backends it has reaped) and every live
     * process under it, so that other PostgreSQL servers on the machine do not count.
     */
    static long postgresTreeCpuMicros(long postmaster) {
        long total = 0;
        try {
            String stat = Files.readString(Path.of("/proc/" + postmaster + "/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            total += (Long.parseLong(fields[11]) + Long.parseLong(fields[12]) + Long.parseLong(fields[13])
                    + Long.parseLong(fields[14])) * 10_000L;
        } catch (IOException e) {
            return 0;
        }
        for (ProcessHandle child : ProcessHandle.of(postmaster).map(p -> p.descendants().toList()).orElse(List.of())) {
            total += cpuMicros(child.pid());
        }
        return total;
    }

    /** The parent process id of {@code pid} (from /proc/PID/stat). */
    /** The pid of the postmaster serving {@code database} (the parent of a backend this call connects to). */
    static long postmasterOf(PostgresServer.Database database) throws Exception {
        try (java.sql.Connection connection = java.sql.DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
             java.sql.Statement statement = connection.createStatement();
             java.sql.ResultSet row = statement.executeQuery("SELECT pg_backend_pid()")) {
            row.next();
            return parentPid(row.getLong(1));
        }
    }

    static long parentPid(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
