package dev.sigil.cli;

import dev.sigil.cli.server.StopSignal;
import dev.sigil.server.config.ConfigEnvironment;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * The run {@code bin/sigil} records the class-data sharing archive of short commands from (with
 * {@code -XX:ArchiveClassesAtExit}), once per build. An archive holds the classes of the run that wrote
 * it, so this run goes where short commands go: the help of every command (picocli, every command's
 * options and their types), admin API calls answered by a local socket of its own (Jetty's client,
 * JSON, the text and JSON output, the logging set-up), Workload API calls answered by a stand-in API
 * of its own ({@link TrainingWorkloadApi}: gRPC, Netty's client side, protobuf, certificate decoding)
 * and one to a socket nobody serves (the connection failure). What it prints goes nowhere and nothing
 * it does leaves its temporary directory; failures of the commands it runs are expected and ignored.
 */
public final class StartupTraining {
    private StartupTraining() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("sigil-training");
        try {
            train(dir);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(file);
                }
            }
        }
    }

    private static void train(Path dir) throws IOException, InterruptedException {
        PrintWriter sink = new PrintWriter(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
        // what Main.main builds (the launcher and the stop signal are never used: no command here runs long)
        CliContext context = new CliContext(ConfigEnvironment.of(Map.of(), dir), sink, sink, Main.defaultLauncher(),
                StopSignal.jvmShutdown());
        List<String[]> lines = new ArrayList<>();
        lines.add(new String[] {"--help"});
        lines.add(new String[] {"--version"});
        for (String name : Main.COMMANDS.keySet()) {
            lines.add(new String[] {name, "--help"});
            CommandLine command = new CommandLine(Main.COMMANDS.get(name), new Main.ContextFactory(context));
            for (String sub : command.getSubcommands().keySet()) {
                lines.add(new String[] {name, sub, "--help"});
            }
        }
        Path socket = dir.resolve("admin.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Thread answering = Thread.ofPlatform().daemon().name("training-admin").start(() -> answer(server));
            String path = socket.toString();
            for (String output : List.of("text", "json")) {
                lines.add(new String[] {"healthcheck", "--socket", path, "--output", output});
                lines.add(new String[] {"entry", "list", "--socket", path, "--output", output});
                lines.add(new String[] {"entry", "show", "--socket", path, "--output", output, "--spiffe-id", "spiffe://training.test/w"});
                lines.add(new String[] {"agent", "list", "--socket", path, "--output", output});
                lines.add(new String[] {"lease", "list", "--socket", path, "--output", output});
            }
            lines.add(new String[] {"agent", "api", "fetch", "x509", "--socket", dir.resolve("nobody.sock").toString(), "--timeout", "1s"});
            run(lines, context);
            server.close();
            answering.join(5_000);
        }
        Path workload = dir.resolve("workload.sock");
        try (TrainingWorkloadApi api = TrainingWorkloadApi.start(workload)) {
            String path = workload.toString();
            List<String[]> calls = new ArrayList<>();
            for (String output : List.of("text", "json")) {
                calls.add(new String[] {"agent", "api", "fetch", "x509", "--socket", path, "--output", output});
                calls.add(new String[] {"agent", "api", "fetch", "jwt", "--socket", path, "--output", output, "--audience", "training"});
                calls.add(new String[] {"agent", "api", "fetch", "jwt", "--socket", path, "--output", output, "--audience", "training",
                    "--bundles"});
                calls.add(new String[] {"agent", "api", "validate", "jwt", "--socket", path, "--output", output, "--audience", "training",
                    "--svid", "training"});
            }
            run(calls, context);
        } catch (IOException | RuntimeException unavailable) {
            // no stand-in API here (e.g. no epoll): the archive lacks the answered calls, which still work
        }
    }

    private static void run(List<String[]> lines, CliContext context) {
        for (String[] line : lines) {
            try {
                Main.run(line, context);
            } catch (RuntimeException expected) {
                // a command that fails still loaded what it needed up to the failure
            }
        }
    }

    /** Answers every request with one small JSON object, as the admin API answers. */
    private static void answer(ServerSocketChannel server) {
        byte[] body = "{\"status\":\"ok\",\"entries\":[],\"agents\":[],\"leases\":[]}".getBytes(StandardCharsets.UTF_8);
        byte[] head = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        while (server.isOpen()) {
            try (SocketChannel client = server.accept()) {
                ByteBuffer request = ByteBuffer.allocate(64 * 1024);
                while (client.read(request) > 0 && !headersEnd(request)) {
                    // read the request head; bodies of the training's requests are not needed
                }
                client.write(ByteBuffer.wrap(head));
                client.write(ByteBuffer.wrap(body));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private static boolean headersEnd(ByteBuffer request) {
        String text = new String(request.array(), 0, request.position(), StandardCharsets.US_ASCII);
        return text.contains("\r\n\r\n");
    }
}
