package dev.sigil.cli;

import dev.sigil.agent.config.AgentConfig;
import dev.sigil.agent.config.AgentConfigLoader;
import dev.sigil.agent.config.AgentEnvironment;
import dev.sigil.core.Printable;
import dev.sigil.core.SigilException;
import dev.sigil.core.observability.MetricsListenerSettings;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sigil agent healthcheck}: asks a local agent's health endpoint (the {@code metrics} listener,
 * docs/observability.md) whether it is ready (or only live with {@code --shallow}); exit 0 when it is,
 * 1 otherwise, with the agent's reason.
 */
@Command(name = "healthcheck", description = "Checks that the local agent is ready (holds a valid SVID and synced with the server "
        + "recently), or only live with --shallow, through its metrics listener; exits non-zero otherwise.")
final class AgentHealthcheckCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "Agent configuration file: the listener is its 'metrics' block.")
    Path config;

    @Option(names = "--address", paramLabel = "HOST:PORT",
            description = "The agent's metrics listener (default: from --config, else 127.0.0.1:9465).")
    String address;

    @Option(names = "--shallow", description = "Only check that the agent answers (liveness), not that it is ready.")
    boolean shallow;

    private final CliContext context;

    AgentHealthcheckCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() throws InterruptedException {
        String target = target();
        String path = shallow ? "/healthz/live" : "/healthz/ready";
        HttpResponse<String> reply;
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            reply = client.send(HttpRequest.newBuilder(URI.create("http://" + target + path)).timeout(Duration.ofSeconds(10)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException | IllegalArgumentException e) {
            throw new CliException("cannot reach the agent's health endpoint at http://" + Printable.clip(target) + path + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
                    + "; is the agent running with a 'metrics' block (docs/observability.md)?", 1, e);
        }
        if (reply.statusCode() == 200) {
            context.out().println(shallow ? "agent is live" : "agent is ready");
            context.out().flush();
            return 0;
        }
        throw new CliException("agent is not " + (shallow ? "live" : "ready") + " (http " + reply.statusCode() + "): "
                + Printable.clip(reply.body().strip()), 1, null);
    }

    private String target() {
        if (address != null) {
            return address;
        }
        if (config == null) {
            return MetricsListenerSettings.LOOPBACK + ":9465";
        }
        AgentConfig agent;
        try {
            agent = AgentConfigLoader.load(Optional.of(config),
                    new AgentEnvironment(context.environment().variables(), context.environment().userHome(), context.environment().root()));
        } catch (SigilException | IllegalArgumentException e) {
            throw new CliException(e.getMessage(), 1, e);
        }
        MetricsListenerSettings metrics = agent.metrics().orElseThrow(() -> new CliException(config
                + " has no 'metrics' block: the agent serves no health endpoint (docs/observability.md)"));
        if (metrics.tls().isPresent()) {
            throw new CliException("the agent's metrics listener uses tls (metrics.tls); this check speaks plain http only: "
                    + "query https://" + metrics.address() + ":" + metrics.port() + "/healthz/ready with your client certificate");
        }
        String host = metrics.address().contains(":") ? "[" + metrics.address() + "]" : metrics.address();
        return host + ":" + metrics.port();
    }
}
