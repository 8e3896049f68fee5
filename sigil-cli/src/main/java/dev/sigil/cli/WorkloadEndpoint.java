package dev.sigil.cli;

import dev.sigil.agent.workload.WorkloadApiConfig;
import dev.sigil.server.config.ConfigEnvironment;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the Workload API listens: a Unix socket path, resolved as SPIFFE workloads resolve it:
 * {@code --socket}, then {@code SPIFFE_ENDPOINT_SOCKET} ({@code unix:///path} or {@code unix:/path}, as
 * the SPIFFE Workload Endpoint specification writes it), then {@link #DEFAULT_SOCKET}. Only unix sockets
 * are supported; any other address is refused with a message naming it.
 */
record WorkloadEndpoint(Path socket) {
    static final String ENV = "SPIFFE_ENDPOINT_SOCKET";
    /** The agent's default, {@code WorkloadApiConfig.DEFAULT_SOCKET_PATH}. */
    static final Path DEFAULT_SOCKET = WorkloadApiConfig.DEFAULT_SOCKET_PATH;

    WorkloadEndpoint {
        Objects.requireNonNull(socket, "socket");
        socket = socket.toAbsolutePath();
    }

    static WorkloadEndpoint resolve(Path flag, ConfigEnvironment environment) {
        if (flag != null) {
            return new WorkloadEndpoint(flag);
        }
        return environment.variable(ENV).map(WorkloadEndpoint::parse).orElse(new WorkloadEndpoint(DEFAULT_SOCKET));
    }

    /** Parses a SPIFFE endpoint address; only {@code unix:} addresses with an absolute path and nothing else. */
    static WorkloadEndpoint parse(String address) {
        String expected = "; use unix:///path/to/api.sock";
        URI uri;
        try {
            uri = new URI(address);
        } catch (URISyntaxException e) {
            throw new CliException(ENV + " '" + address + "' is not a valid address: " + e.getReason() + expected);
        }
        if (uri.getScheme() == null) {
            throw new CliException(ENV + " '" + address + "' has no scheme" + expected);
        }
        if (!uri.getScheme().equals("unix")) {
            throw new CliException(ENV + " '" + address + "' uses scheme '" + uri.getScheme()
                    + "'; sigil reaches the workload api only over a unix socket" + expected);
        }
        if (uri.isOpaque() || uri.getPath() == null || uri.getPath().isEmpty()) {
            throw new CliException(ENV + " '" + address + "' has no absolute socket path" + expected);
        }
        if (uri.getRawAuthority() != null) {
            throw new CliException(ENV + " '" + address + "' names a host ('" + uri.getRawAuthority()
                    + "'); a unix address has none" + expected);
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new CliException(ENV + " '" + address + "' has a query or fragment; a unix address has neither" + expected);
        }
        return new WorkloadEndpoint(Path.of(uri.getPath()));
    }

    @Override
    public String toString() {
        return socket.toString();
    }
}
