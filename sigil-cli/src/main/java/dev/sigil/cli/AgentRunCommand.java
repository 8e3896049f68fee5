package dev.sigil.cli;

import dev.sigil.agent.AgentRuntime;
import dev.sigil.agent.AgentState;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.agent.config.AgentConfigLoader;
import dev.sigil.agent.config.AgentEnvironment;
import dev.sigil.cli.server.Logging;
import dev.sigil.core.SigilException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sigil agent run}: attests the node and serves the SPIFFE Workload API until stopped. */
@Command(name = "run", description = "Runs the agent in the foreground: attests the node to the server and serves the "
        + "SPIFFE Workload API; stops on SIGTERM or SIGINT (see docs/agent.md).")
final class AgentRunCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "Agent configuration file (YAML, see docs/agent.md).")
    Path config;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Agent data directory (overrides SIGIL_AGENT_DATA_DIR and data_dir).")
    Path dataDir;

    @Option(names = "--trust-domain", paramLabel = "NAME", description = "Trust domain (overrides SIGIL_AGENT_TRUST_DOMAIN and trust_domain).")
    String trustDomain;

    @Option(names = "--server-address", paramLabel = "HOST:PORT",
            description = "The server's agent API (overrides SIGIL_AGENT_SERVER_ADDRESS and server_address).")
    String serverAddress;

    @Option(names = "--join-token", paramLabel = "TOKEN", description = "Join token for the join_token node attestor "
            + "(prefer SIGIL_JOIN_TOKEN: a flag is visible to other users in the process list).")
    String joinToken;

    private final CliContext context;

    AgentRunCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() throws InterruptedException {
        Map<String, String> variables = new HashMap<>(context.environment().variables());
        put(variables, AgentConfigLoader.SIGIL_AGENT_DATA_DIR, dataDir == null ? null : dataDir.toString());
        put(variables, AgentConfigLoader.SIGIL_AGENT_TRUST_DOMAIN, trustDomain);
        put(variables, AgentConfigLoader.SIGIL_AGENT_SERVER_ADDRESS, serverAddress);
        put(variables, AgentConfigLoader.SIGIL_JOIN_TOKEN, joinToken);
        AgentConfig agentConfig;
        AgentRuntime runtime;
        try {
            agentConfig = AgentConfigLoader.load(Optional.ofNullable(config),
                    new AgentEnvironment(variables, context.environment().userHome(), context.environment().root()));
            Logging.apply(agentConfig.logLevel().lowerCase());
            Logging.format(agentConfig.logFormat());
            runtime = AgentRuntime.start(agentConfig, Clock.systemUTC());
        } catch (SigilException | IllegalArgumentException e) {
            throw new CliException(e.getMessage(), 1, e);
        }
        String agentId = runtime.agent().state() instanceof AgentState.Running running ? running.agentId().toString() : "?";
        context.err().println("sigil: agent " + agentId + " running; workload api at unix://" + runtime.workloadApiSocket());
        context.err().flush();
        Thread signals = new Thread(() -> {
            try {
                context.stopSignal().awaitStop(runtime::close);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "sigil-agent-signals");
        signals.setDaemon(true);
        signals.start();
        String reason = runtime.stopped().join();
        if (!"stopped".equals(reason)) {
            throw new CliException("agent stopped: " + reason);
        }
        return 0;
    }

    private static void put(Map<String, String> variables, String name, String value) {
        if (value != null) {
            variables.put(name, value);
        }
    }
}
