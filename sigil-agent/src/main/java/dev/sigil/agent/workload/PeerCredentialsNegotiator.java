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

/**
 * Plaintext gRPC over a Unix socket whose transports carry the kernel's peer credentials
 * ({@code SO_PEERCRED}, read once when the connection is set up) in the transport attribute
 * {@link #PEER}. A connection whose credentials cannot be read is closed before any call runs.
 */
final class PeerCredentialsNegotiator implements InternalProtocolNegotiator.ProtocolNegotiator {
    /** The connecting process's pid, uid and gid, as the kernel reported them. */
    static final Attributes.Key<dev.sigil.agent.workload.PeerCredentials> PEER = Attributes.Key.create("sigil.peer-credentials");

    private final InternalProtocolNegotiator.ProtocolNegotiator plaintext = InternalProtocolNegotiators.serverPlaintext();

    static ServerCredentials credentials() {
        return InternalNettyServerCredentials.create(new PeerCredentialsNegotiator());
    }

    @Override
    public AsciiString scheme() {
        return plaintext.scheme();
    }

    @Override
    public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
        return new Handler(plaintext.newHandler(grpcHandler), grpcHandler);
    }

    @Override
    public void close() {
        plaintext.close();
    }

    private static final class Handler extends InternalProtocolNegotiators.ProtocolNegotiationHandler {
        Handler(ChannelHandler next, GrpcHttp2ConnectionHandler grpcHandler) {
            super(next, "peer-credentials", grpcHandler.getNegotiationLogger());
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
            Attributes attributes = InternalProtocolNegotiationEvent.getAttributes(event).toBuilder()
                    .set(PEER, new dev.sigil.agent.workload.PeerCredentials(credentials.pid(), credentials.uid(),
                            credentials.gids().length > 0 ? credentials.gids()[0] : -1))
                    .build();
            replaceProtocolNegotiationEvent(InternalProtocolNegotiationEvent.withAttributes(event, attributes));
            fireProtocolNegotiationEvent(ctx);
        }
    }
}
