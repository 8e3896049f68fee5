package dev.sigil.agent.server;

import dev.sigil.agent.config.AgentConfig;
import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.Status;
import io.grpc.SynchronizationContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Resolves the agent's configured server addresses for one gRPC channel: every {@code host:port}, in
 * the configured order, becomes one {@link EquivalentAddressGroup} per address its host resolves to (a
 * DNS name with several addresses contributes all of them, in the resolver's order). With the
 * {@code pick_first} policy the channel connects to the first group that accepts a connection and moves
 * on to the next after a connection failure.
 *
 * <p>Contract: hosts are resolved off the channel's thread, at start and at every {@link #refresh()}
 * (gRPC refreshes after a connection is lost); a host that does not resolve is skipped while another
 * does; when none resolves the channel gets UNAVAILABLE naming every host. Resolution is only about
 * where to connect: the server is authenticated by its certificate's SPIFFE ID, never by host name.
 */
final class ServerAddressResolver extends NameResolver {
    /** The scheme of the channel target; the target's path is not used. */
    static final String SCHEME = "sigil-agent-servers";

    private final List<AgentConfig.ServerAddress> addresses;
    private final SynchronizationContext syncContext;
    private Listener2 listener;
    private boolean resolving;
    private boolean shutdown;

    ServerAddressResolver(List<AgentConfig.ServerAddress> addresses, SynchronizationContext syncContext) {
        this.addresses = AgentConfig.ServerAddress.list(addresses);
        this.syncContext = syncContext;
    }

    /** A provider that hands out resolvers for {@code addresses}, whatever the target's path. */
    static NameResolverProvider provider(List<AgentConfig.ServerAddress> addresses) {
        List<AgentConfig.ServerAddress> checked = AgentConfig.ServerAddress.list(addresses);
        return new NameResolverProvider() {
            @Override
            public NameResolver newNameResolver(URI target, Args args) {
                return SCHEME.equals(target.getScheme()) ? new ServerAddressResolver(checked, args.getSynchronizationContext()) : null;
            }

            @Override
            public String getDefaultScheme() {
                return SCHEME;
            }

            @Override
            protected boolean isAvailable() {
                return true;
            }

            @Override
            protected int priority() {
                return 5;
            }

            @Override
            public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
                return List.of(InetSocketAddress.class);
            }
        };
    }

    @Override
    public String getServiceAuthority() {
        // TLS does not check host names (SpiffeServerTrust); the authority only fills the :authority header
        return addresses.getFirst().toString();
    }

    @Override
    public void start(Listener2 listener) {
        this.listener = listener;
        resolve();
    }

    @Override
    public void refresh() {
        resolve();
    }

    /** Runs in the synchronization context. */
    private void resolve() {
        if (resolving || shutdown) {
            return;
        }
        resolving = true;
        Thread.ofVirtual().name("sigil-agent-server-resolve").start(() -> {
            List<EquivalentAddressGroup> groups = new ArrayList<>();
            List<String> failures = new ArrayList<>();
            for (AgentConfig.ServerAddress address : addresses) {
                try {
                    for (InetAddress ip : InetAddress.getAllByName(address.host())) {
                        groups.add(new EquivalentAddressGroup(new InetSocketAddress(ip, address.port())));
                    }
                } catch (UnknownHostException e) {
                    failures.add(address + " (" + e.getMessage() + ")");
                }
            }
            syncContext.execute(() -> {
                resolving = false;
                if (shutdown) {
                    return;
                }
                if (groups.isEmpty()) {
                    listener.onError(Status.UNAVAILABLE.withDescription("no server address resolves: " + String.join(", ", failures)));
                } else {
                    listener.onResult2(ResolutionResult.newBuilder().setAddresses(groups).build());
                }
            });
        });
    }

    @Override
    public void shutdown() {
        shutdown = true;
    }
}
