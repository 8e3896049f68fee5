package dev.sigil.agent.workload;

import io.grpc.Attributes;
import io.grpc.ServerCredentials;
import io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.InternalNettyServerCredentials;
import io.grpc.netty.InternalProtocolNegotiationEvent;
import io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.ProtocolNegotiationEvent;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.PeerCredentials;
import io.netty.util.AsciiString;
import java.io.IOException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plaintext gRPC over a Unix socket whose transports carry, in the transport attribute {@link #PEER},
 * the connecting process as it was when the connection was accepted: the kernel's peer credentials
 * ({@code SO_PEERCRED}: pid, uid and gid captured by the kernel at {@code connect()}) and, read from
 * {@code /proc} at once, the process's start time and executable. Both are recorded before the agent
 * sends its first byte on the connection. A connection whose credentials cannot be read is closed before
 * any call runs; one whose process cannot be inspected at accept carries no {@link #PEER} (its calls
 * are refused).
 */
final class PeerCredentialsNegotiator implements InternalProtocolNegotiator.ProtocolNegotiator {
    private static final Logger LOG = LoggerFactory.getLogger(PeerCredentialsNegotiator.class);

    /** The connecting process: the kernel's peer credentials and its start time and executable at accept. */
    static final Attributes.Key<PeerProcess> PEER = Attributes.Key.create("sigil.peer-process");
    /** Set instead of {@link #PEER}: why the connecting process could not be recorded (for the refusal). */
    static final Attributes.Key<String> UNRECORDED = Attributes.Key.create("sigil.peer-unrecorded");

    private final InternalProtocolNegotiator.ProtocolNegotiator plaintext = InternalProtocolNegotiators.serverPlaintext();
    private final ProcFs proc;

    private PeerCredentialsNegotiator(ProcFs proc) {
        this.proc = proc;
    }

    static ServerCredentials credentials(ProcFs proc) {
        return InternalNettyServerCredentials.create(new PeerCredentialsNegotiator(proc));
    }

    @Override
    public AsciiString scheme() {
        return plaintext.scheme();
    }

    @Override
    public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
        return new Handler(plaintext.newHandler(grpcHandler), grpcHandler, proc);
    }

    @Override
    public void close() {
        plaintext.close();
    }

    private static final class Handler extends InternalProtocolNegotiators.ProtocolNegotiationHandler {
        private final ProcFs proc;

        Handler(ChannelHandler next, GrpcHttp2ConnectionHandler grpcHandler, ProcFs proc) {
            super(next, "peer-credentials", grpcHandler.getNegotiationLogger());
            this.proc = proc;
        }

        @Override
        protected void protocolNegotiationEventTriggered(ChannelHandlerContext ctx) {
            if (!(ctx.channel() instanceof EpollDomainSocketChannel channel)) {
                ctx.fireExceptionCaught(new IllegalStateException("workload api connection is a "
                        + ctx.channel().getClass().getSimpleName() + "; only epoll unix domain sockets carry peer credentials"));
                ctx.close();
                return;
            }
            PeerCredentials credentials;
            try {
                credentials = channel.peerCredentials();
            } catch (IOException e) {
                ctx.fireExceptionCaught(e);
                ctx.close();
                return;
            }
            ProtocolNegotiationEvent event = getProtocolNegotiationEvent();
            Attributes.Builder attributes = InternalProtocolNegotiationEvent.getAttributes(event).toBuilder();
            record(credentials, attributes);
            replaceProtocolNegotiationEvent(InternalProtocolNegotiationEvent.withAttributes(event, attributes.build()));
            fireProtocolNegotiationEvent(ctx);
        }

        /** Sets {@link #PEER} to the peer with its process image now, or {@link #UNRECORDED} to why it cannot be. */
        private void record(PeerCredentials credentials, Attributes.Builder attributes) {
            int pid = credentials.pid();
            dev.sigil.agent.workload.PeerCredentials peer;
            try {
                if (credentials.gids().length == 0) {
                    throw new IllegalArgumentException("peer pid " + pid + " has no gid");
                }
                peer = dev.sigil.agent.workload.PeerCredentials.fromKernel(pid, credentials.uid(), credentials.gids()[0]);
            } catch (IllegalArgumentException e) {
                LOG.warn("workload api peer credentials refused: {}", e.getMessage());
                attributes.set(UNRECORDED, "caller pid " + pid + " has unusable peer credentials (" + e.getMessage() + ")");
                return;
            }
            Optional<ProcessImage> image;
            try {
                image = proc.image(pid);
            } catch (WorkloadAttestationException e) {
                LOG.warn("workload api peer pid {} cannot be inspected at connect: {}; its calls are refused", pid, e.getMessage());
                attributes.set(UNRECORDED, "caller pid " + pid + " could not be inspected when it connected (" + e.getMessage() + ")");
                return;
            }
            if (image.isEmpty()) {
                attributes.set(UNRECORDED, "caller pid " + pid + " exited before its connection was accepted");
                return;
            }
            attributes.set(PEER, new PeerProcess(peer, image.get()));
        }
    }
}
