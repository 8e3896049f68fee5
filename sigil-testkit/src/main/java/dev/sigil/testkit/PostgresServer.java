package dev.sigil.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real PostgreSQL server for tests, run from the machine's PostgreSQL binaries in a temporary
 * directory: listening on a free 127.0.0.1 port (and a Unix socket in that directory), password
 * authentication over TCP, fsync off ({@link #startDurable()}: on). {@link #close()} stops it at once
 * and deletes its files.
 *
 * <p>Tests normally share {@link #shared() one server per JVM} and take a
 * {@link #createDatabase() fresh database} each, which costs milliseconds instead of the second or
 * two that starting a server takes. When the JVM runs as root, the server runs as {@code nobody}
 * (PostgreSQL refuses root). Leftovers of a JVM that was killed are removed by the next start.
 */
public final class PostgresServer implements AutoCloseable {
    private static final String USER = "sigil";
    private static final String DIR_PREFIX = "sigil-pg-";
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static PostgresServer shared;

    private final Path dir;
    private Process process;
    private final int port;
    private final String password;
    private final boolean jvmWide;
    private final boolean durable;
    private Connection admin;
    private boolean closed;

    private PostgresServer(Path dir, Process process, int port, String password, boolean jvmWide, boolean durable) {
        this.durable = durable;
        this.dir = dir;
        this.process = process;
        this.port = port;
        this.password = password;
        this.jvmWide = jvmWide;
    }

    /** A database on this server, with the credentials to reach it. {@link #toString()} hides the password. */
    public record Database(String name, String jdbcUrl, String user, String password) {
        @Override
        public String toString() {
            return "Database[" + name + " " + jdbcUrl + " user=" + user + " password=<redacted>]";
        }
    }

    /**
     * The server shared by every test in this JVM, started on first use and stopped by a shutdown
     * hook. Closing it does nothing.
     */
    public static synchronized PostgresServer shared() {
        if (shared == null) {
            shared = start(true, false);
            PostgresServer server = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "sigil-postgres-stop"));
        }
        return shared;
    }

    /** Starts a server of its own, which the caller must close. */
    public static PostgresServer start() {
        return start(false, false);
    }

    /**
     * Starts a server of its own with PostgreSQL's durable defaults ({@code fsync}, {@code synchronous_commit}
     * and {@code full_page_writes} on), for benchmarks that measure what a production database costs.
     */
    public static PostgresServer startDurable() {
        return start(false, true);
    }

    /** Whether this server runs with fsync and synchronous commit on. */
    public boolean durable() {
        return durable;
    }

    private static PostgresServer start(boolean jvmWide, boolean durable) {
        PostgresBinaries binaries = PostgresBinaries.locate();
        StaleServers.removeLeftovers(DIR_PREFIX);
        Path dir = null;
        try {
            dir = Files.createTempDirectory(DIR_PREFIX + ProcessHandle.current().pid() + "-");
            String password = randomPassword();
            Path passwordFile = dir.resolve("pwfile");
            Files.writeString(passwordFile, password + "\n");
            if (binaries.runAs().isPresent()) {
                handOver(dir, binaries.runAs().get());
                handOver(passwordFile, binaries.runAs().get());
            }
            run(binaries.command("initdb", "-D", dir.resolve("data").toString(), "-U", USER,
                    "--pwfile=" + passwordFile, "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions",
                    "--auth-local=trust", "--auth-host=scram-sha-256"), dir.resolve("initdb.log"));
            Files.delete(passwordFile);
            IOException lastBindFailure = null;
            for (int attempt = 0; attempt < 3; attempt++) {
                int port = freePort();
                Process process = launch(binaries, dir, port, durable);
                try {
                    awaitReady(process, port, password, dir.resolve("postgres.log"));
                    return new PostgresServer(dir, process, port, password, jvmWide, durable);
                } catch (PortTakenException e) {
                    lastBindFailure = e;
                }
            }
            throw new IllegalStateException("postgresql could not bind a free port three times", lastBindFailure);
        } catch (IOException e) {
            deleteQuietly(dir);
            throw new UncheckedIOException("cannot start postgresql: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            deleteQuietly(dir);
            throw e;
        }
    }

    public int port() {
        return port;
    }

    /** The maintenance database {@code postgres}; tests should use {@link #createDatabase()} instead. */
    public String jdbcUrl() {
        return jdbcUrl("postgres");
    }

    public String user() {
        return USER;
    }

    public String password() {
        return password;
    }

    /** Creates an empty database with a unique name and returns how to reach it. */
    public synchronized Database createDatabase() {
        String name = "sigil_test_" + DATABASES.incrementAndGet();
        try (Statement statement = adminConnection().createStatement()) {
            statement.execute("CREATE DATABASE " + name + " TEMPLATE template0");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create test database " + name + ": " + e.getMessage(), e);
        }
        return new Database(name, jdbcUrl(name), USER, password);
    }

    /** A stopped server, started again by {@link #close()}. */
    public interface Outage extends AutoCloseable {
        /** Starts the server again on the same port with the same data, and waits until it accepts connections. */
        @Override
        void close();
    }

    /**
     * Stops the server as a restart or a failover does (fast shutdown: every session is terminated, what was
     * committed is kept) until the returned {@link Outage} is closed, which starts it again on the same port.
     * Not an immediate (crash) stop: test servers run with {@code fsync} and {@code synchronous_commit} off,
     * so a crash would lose the last commits. Not for the {@link #shared()} server, which other tests use.
     */
    public synchronized Outage outage() {
        if (jvmWide) {
            throw new IllegalStateException("the shared postgresql test server cannot be stopped; start one with PostgresServer.start()");
        }
        if (closed) {
            throw new IllegalStateException("postgresql test server on port " + port + " is closed");
        }
        try {
            if (admin != null) {
                admin.close();
            }
        } catch (SQLException ignored) {
            // the server is going away
        }
        admin = null;
        stopFast(process.toHandle());
        return () -> {
            synchronized (PostgresServer.this) {
                try {
                    process = launch(PostgresBinaries.locate(), dir, port, durable);
                    awaitReady(process, port, password, dir.resolve("postgres.log"));
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot restart postgresql on port " + port + ": " + e.getMessage(), e);
                }
            }
        };
    }

    private static void stopFast(ProcessHandle postmaster) {
        try {
            new ProcessBuilder("kill", "-INT", String.valueOf(postmaster.pid())).start().waitFor(5, TimeUnit.SECONDS);
            postmaster.onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("postgresql (pid " + postmaster.pid() + ") did not stop within 30 s of a fast shutdown", e);
        }
    }

    /** Stops the server at once and deletes its files; does nothing for the {@link #shared()} server. */
    @Override
    public void close() {
        if (!jvmWide) {
            stop();
        }
    }

    private synchronized void stop() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (admin != null) {
                admin.close();
            }
        } catch (SQLException ignored) {
            // the server is going away anyway
        }
        StaleServers.stopImmediately(process.toHandle());
        deleteQuietly(dir);
    }

    private Connection adminConnection() throws SQLException {
        if (closed) {
            throw new IllegalStateException("postgresql test server on port " + port + " is closed");
        }
        if (admin == null || admin.isClosed()) {
            admin = DriverManager.getConnection(jdbcUrl(), USER, password);
        }
        return admin;
    }

    private String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    private static Process launch(PostgresBinaries binaries, Path dir, int port, boolean durable) throws IOException {
        String onWhenDurable = durable ? "on" : "off";
        ProcessBuilder builder = new ProcessBuilder(binaries.command("postgres", "-D", dir.resolve("data").toString(),
                "-p", String.valueOf(port),
                "-c", "listen_addresses=127.0.0.1",
                "-c", "unix_socket_directories=" + dir,
                "-c", "fsync=" + onWhenDurable,
                "-c", "synchronous_commit=" + onWhenDurable,
                "-c", "full_page_writes=" + onWhenDurable,
                "-c", "max_connections=300",
                "-c", "shared_buffers=64MB",
                "-c", "dynamic_shared_memory_type=mmap"));
        sanitize(builder.environment());
        builder.redirectErrorStream(true).redirectOutput(dir.resolve("postgres.log").toFile());
        return builder.start();
    }

    private static void awaitReady(Process process, int port, String password, Path log) throws IOException {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/postgres?connectTimeout=2";
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                String output = tail(log);
                if (output.contains("could not bind") || output.contains("Address already in use")) {
                    throw new PortTakenException(output);
                }
                throw new IllegalStateException("postgresql exited with status " + process.exitValue()
                        + " while starting; its log ends with:\n" + output);
            }
            try (Connection ignored = DriverManager.getConnection(url, USER, password)) {
                return;
            } catch (SQLException e) {
                last = e;
                sleep(25);
            }
        }
        StaleServers.stopImmediately(process.toHandle());
        throw new IllegalStateException("postgresql did not accept connections within " + STARTUP_TIMEOUT.toSeconds()
                + " s (last error: " + (last == null ? "none" : last.getMessage()) + "); its log ends with:\n" + tail(log));
    }

    private static void run(List<String> command, Path log) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command);
        sanitize(builder.environment());
        builder.redirectErrorStream(true).redirectOutput(log.toFile());
        Process process = builder.start();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(command.getLast() + " did not finish within 60 s: " + String.join(" ", command));
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
        }
        if (process.exitValue() != 0) {
            throw new IllegalStateException("'" + String.join(" ", command) + "' failed with status " + process.exitValue()
                    + "; its output ends with:\n" + tail(log));
        }
    }

    private static void sanitize(Map<String, String> environment) {
        environment.keySet().removeIf(name -> name.startsWith("PG"));
        environment.put("LC_ALL", "C");
        environment.put("TZ", "UTC");
    }

    private static void handOver(Path path, PostgresBinaries.RunAs runAs) throws IOException {
        UserPrincipalLookupService lookup = path.getFileSystem().getUserPrincipalLookupService();
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
        view.setOwner(lookup.lookupPrincipalByName(runAs.user()));
        view.setGroup(lookup.lookupPrincipalByGroupName(runAs.group()));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(Files.isDirectory(path) ? "rwx------" : "rw-------"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static String randomPassword() {
        byte[] bytes = new byte[18];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for postgresql to start", e);
        }
    }

    static void deleteQuietly(Path dir) {
        StaleServers.deleteRecursively(dir);
    }

    private static final class PortTakenException extends IOException {
        PortTakenException(String log) {
            super("postgresql could not bind its port: " + log);
        }
    }

    @Override
    public String toString() {
        return "PostgresServer[127.0.0.1:" + port + " " + dir + "]";
    }
}
