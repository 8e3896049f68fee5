package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sigil.server.console.LoopbackForwarder;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sigil console}: opens the web console for the admin running it. Asks the server for a one-time
 * login code over the admin socket ({@code POST /v1/console/login}), forwards a loopback port to the
 * socket, prints the login link and runs until Ctrl-C. Whoever else reaches the port still needs the
 * code (single use, 60 s) or the session it opens.
 */
@Command(name = "console", description = "Opens the web console: prints a one-time login link to a loopback port forwarded to "
        + "the admin socket, and runs until Ctrl-C.")
final class ConsoleCommand extends ClientCommand {
    @Option(names = "--port", paramLabel = "PORT", description = "Loopback port to listen on (default: any free port).")
    int port;

    @Option(names = "--open", description = "Also open the link in the desktop's browser (xdg-open).")
    boolean open;

    ConsoleCommand(CliContext context) {
        super(context);
    }

    @Override
    int run(AdminClient client, PrintWriter out) {
        if (port < 0 || port > 65_535) {
            throw usage("--port " + port + " is out of range; use 0 (any free port) to 65535");
        }
        JsonNode login = client.post("/v1/console/login", Map.of()).json();
        try (LoopbackForwarder forwarder = LoopbackForwarder.start(port, options.socketPath(context.environment()))) {
            String url = "http://127.0.0.1:" + forwarder.port() + login.path("login_path").asText();
            out.println("Console: " + url);
            out.println("The link works once, within " + login.path("expires_in").asLong() + " seconds; the session it opens ends after "
                    + "15 minutes idle or 8 hours. Press Ctrl-C to close the console.");
            out.flush();
            if (open) {
                openBrowser(url);
            }
            context.stopSignal().awaitStop(forwarder::close);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (dev.sigil.core.SigilException e) {
            throw new CliException(e.getMessage(), 1, e);
        }
        return 0;
    }

    private void openBrowser(String url) {
        try {
            new ProcessBuilder("xdg-open", url).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            context.err().println("note: cannot open a browser (xdg-open: " + dev.sigil.core.Printable.reason(e) + "); open the link yourself");
            context.err().flush();
        }
    }
}
