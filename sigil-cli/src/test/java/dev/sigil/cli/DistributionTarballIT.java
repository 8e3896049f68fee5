package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.testkit.Eventually;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution tarball as a user gets it: unpacked into a fresh directory outside the source tree and
 * run from there with {@code bin/sigil}, with HOME and every data directory in temporary space. Runs after
 * the package phase (failsafe), so it tests the tarball this build produced.
 */
// On the shared 2-core build machine at a load of 20 to 36, the dev test took 45 to 65 s (two JVMs' start-up
// and the first class-data archive dump), hence the generous limits.
@Timeout(150)
class DistributionTarballIT {
    private static final Path TARBALL = Path.of(System.getProperty("sigil.dist.tarball", "target/sigil-dist.tar.gz"));

    @TempDir
    Path temp;

    Path install;
    Path home;

    @BeforeEach
    void unpack() throws Exception {
        assertThat(TARBALL).as("the tarball of this build").isRegularFile();
        Path unpacked = Files.createDirectories(temp.resolve("opt"));
        run(List.of("tar", "-xzf", TARBALL.toString(), "-C", unpacked.toString()), Map.of(), unpacked, Duration.ofSeconds(30));
        try (Stream<Path> top = Files.list(unpacked)) {
            install = top.collect(onlyElement());
        }
        home = Files.createDirectories(temp.resolve("home"));
    }

    @Test
    void theTarballHoldsTheLauncherJarsDocsAndUnitsButNoSource() throws Exception {
        assertThat(install.getFileName().toString()).startsWith("sigil-");
        assertThat(install.resolve("bin/sigil")).isExecutable();
        assertThat(install.resolve("bin/lib/jdk.sh")).isRegularFile();
        assertThat(install.resolve("sigil.jar")).isRegularFile();
        assertThat(install.resolve("lib")).isDirectoryContaining("glob:**/sigil-server-*.jar");
        try (java.util.jar.JarFile jar = new java.util.jar.JarFile(install.resolve("sigil.jar").toFile())) {
            assertThat(jar.getEntry("picocli/CommandLine.class")).as("picocli, compiled into sigil.jar").isNotNull();
        }
        assertThat(install.resolve("docs/examples/dev-policy.yaml")).isRegularFile();
        assertThat(install.resolve("systemd/sigil-server.service")).isRegularFile();
        assertThat(install.resolve("systemd/sigil-agent.service")).isRegularFile();
        assertThat(install.resolve("kubernetes")).isDirectory();
        assertThat(install.resolve("README.md")).isRegularFile();
        assertThat(install.resolve("pom.xml")).doesNotExist();
        assertThat(install.resolve("mvnw")).doesNotExist();
        assertThat(install.resolve("bin/test")).doesNotExist();
        try (Stream<Path> files = Files.walk(install)) {
            assertThat(files.map(Path::toString)).noneMatch(name -> name.endsWith(".java") || name.endsWith("/src"));
        }
    }

    @Test
    void devFromTheUnpackedTreeServesAnSvidThroughTheWorkloadApiWithoutBuildingAnything() throws Exception {
        Path data = temp.resolve("dev-data");
        Path log = temp.resolve("dev.log");
        TreeSet<String> before = tree(install);
        ProcessBuilder devCommand = new ProcessBuilder(install.resolve("bin/sigil").toString(), "dev", "--data-dir", data.toString(),
                "--bundle-port", "0", "--agent-api-port", "0", "--token-port", "0")
                .directory(temp.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        userEnvironment(devCommand);
        Process dev = devCommand.start();
        try {
            Path socket = data.resolve("public/api.sock");
            Eventually.within(Duration.ofSeconds(100), () -> {
                assertThat(dev.isAlive()).as("sigil dev is running; its output:\n%s", Files.readString(log)).isTrue();
                assertThat(socket).exists();
            });
            Path svid = temp.resolve("svid");
            Result fetch = run(List.of(install.resolve("bin/sigil").toString(), "agent", "api", "fetch", "x509", "--write", svid.toString()),
                    Map.of("SPIFFE_ENDPOINT_SOCKET", "unix://" + socket), temp, Duration.ofSeconds(45));
            assertThat(fetch.output()).contains("Received 1 svid");

            X509Certificate leaf = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(svid.resolve("svid.0.pem")))).iterator().next();
            String user = System.getProperty("user.name").replaceAll("[^A-Za-z0-9._-]", "_");
            assertThat(leaf.getSubjectAlternativeNames().stream().map(san -> String.valueOf(san.get(1))).toList())
                    .containsExactly("spiffe://sigil.test/dev/" + user);
        } finally {
            dev.destroy();
            if (!dev.waitFor(20, TimeUnit.SECONDS)) {
                dev.destroyForcibly().waitFor();
            }
        }
        String output = Files.readString(log);
        assertThat(output).contains("Sigil development environment is running").doesNotContain("building the distribution");
        // nothing was built or written inside the installed tree: no target/, no class-data archive, no new file
        assertThat(tree(install)).isEqualTo(before);
    }

    @Test
    void theInstalledLauncherRunsOnAJreFromJavaHome() throws Exception {
        // a JRE: a release file and bin/java (recording that it ran), no javac
        Path jre = Files.createDirectories(temp.resolve("jre/bin"));
        Path marker = temp.resolve("jre-used");
        Files.writeString(jre.getParent().resolve("release"), "JAVA_VERSION=\"21.0.9\"\n");
        Path java = jre.resolve("java");
        Files.writeString(java, "#!/bin/sh\ntouch '" + marker + "'\nexec '" + Path.of(System.getProperty("java.home"), "bin", "java") + "' \"$@\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));

        ProcessBuilder builder = new ProcessBuilder(install.resolve("bin/sigil").toString(), "--version").redirectErrorStream(true);
        builder.environment().put("HOME", home.toString());
        builder.environment().put("JAVA_HOME", jre.getParent().toString());
        Result version = run(builder, Duration.ofSeconds(40));
        assertThat(version.output()).startsWith("sigil 0.");
        assertThat(marker).exists();
    }

    @Test
    void shortCommandsStartFromAClassDataArchiveRecordedOnceForEveryCommand() throws Exception {
        String sigil = install.resolve("bin/sigil").toString();
        Path archive = home.resolve(".cache/sigil/sigil-cli.jsa");
        run(List.of(sigil, "--version"), Map.of(), temp, Duration.ofSeconds(90));
        assertThat(archive).as("recorded by the first command").isRegularFile();
        java.nio.file.attribute.FileTime recorded = Files.getLastModifiedTime(archive);

        // another command than the one that recorded it, answered by an admin socket of this test's: its
        // classes come from the archive too
        Path socket = temp.resolve("admin.sock");
        Path classes = temp.resolve("classes.log");
        String output;
        try (java.nio.channels.ServerSocketChannel admin = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            admin.bind(java.net.UnixDomainSocketAddress.of(socket));
            Thread answering = Thread.ofPlatform().daemon().start(() -> answerOnce(admin, "{\"status\":\"ok\"}"));
            ProcessBuilder healthcheck = new ProcessBuilder(sigil, "healthcheck", "--socket", socket.toString())
                    .directory(temp.toFile()).redirectErrorStream(true);
            userEnvironment(healthcheck);
            healthcheck.environment().put("SIGIL_JAVA_OPTS", "-Xlog:class+load=info:file=" + classes);
            Process process = healthcheck.start();
            output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(process.waitFor(40, TimeUnit.SECONDS)).isTrue();
            assertThat(process.exitValue()).as(output).isZero();
            answering.join(5_000);
        }
        assertThat(output).contains("server is healthy");

        List<String> loaded = Files.readAllLines(classes);
        for (String name : List.of("picocli.CommandLine", "dev.sigil.cli.HealthcheckCommand", "org.eclipse.jetty.client.HttpClient",
                "com.fasterxml.jackson.databind.ObjectMapper")) {
            assertThat(loaded).as(name).anyMatch(line -> line.contains(" " + name + " source: shared objects file"));
        }
        assertThat(loaded).as("no logging configuration parsed from XML")
                .noneMatch(line -> line.contains(" ch.qos.logback.classic.joran.JoranConfigurator ") || line.contains(" javax.xml.parsers.SAXParserFactory "));
        assertThat(Files.getLastModifiedTime(archive)).as("not recorded again").isEqualTo(recorded);
    }

    /** Answers one HTTP request on {@code server} with 200 and {@code json}. */
    private static void answerOnce(java.nio.channels.ServerSocketChannel server, String json) {
        try (java.nio.channels.SocketChannel client = server.accept()) {
            java.nio.ByteBuffer request = java.nio.ByteBuffer.allocate(16 * 1024);
            while (client.read(request) > 0
                    && !new String(request.array(), 0, request.position(), StandardCharsets.US_ASCII).contains("\r\n\r\n")) {
                // until the end of the request head
            }
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            client.write(java.nio.ByteBuffer.wrap(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
            client.write(java.nio.ByteBuffer.wrap(body));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private record Result(int exitCode, String output) {
    }

    /** A user's shell: HOME in temporary space, the JDK running this test, no cache directory of the build's. */
    private void userEnvironment(ProcessBuilder builder) {
        builder.environment().remove("XDG_CACHE_HOME");
        builder.environment().remove("SIGIL_JAVA_OPTS");
        builder.environment().put("HOME", home.toString());
        builder.environment().putIfAbsent("JAVA_HOME", System.getProperty("java.home"));
    }

    private Result run(List<String> command, Map<String, String> env, Path directory, Duration limit) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true);
        builder.environment().putAll(env);
        return run(builder, limit);
    }

    private Result run(ProcessBuilder builder, Duration limit) throws Exception {
        if (home != null) {
            userEnvironment(builder);
        }
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError(String.join(" ", builder.command()) + " did not end within " + limit + ":\n" + output);
        }
        assertThat(process.exitValue()).as("%s:\n%s", builder.command(), output).isZero();
        return new Result(process.exitValue(), output);
    }

    private static TreeSet<String> tree(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.map(path -> root.relativize(path).toString()).collect(java.util.stream.Collectors.toCollection(TreeSet::new));
        }
    }

    private static java.util.stream.Collector<Path, ?, Path> onlyElement() {
        return java.util.stream.Collectors.collectingAndThen(java.util.stream.Collectors.toList(), list -> {
            assertThat(list).as("one top-level directory in the tarball").hasSize(1);
            return list.get(0);
        });
    }
}
