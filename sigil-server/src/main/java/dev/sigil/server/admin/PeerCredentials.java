package dev.sigil.server.admin;

import java.nio.channels.SocketChannel;
import java.util.Optional;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.Request;

/**
 * Reads the kernel's credentials of the process at the other end of a Unix socket (SO_PEERCRED), which
 * the caller cannot forge. Best effort: on platforms without it the operator is "unknown", which is
 * still the owner (the socket's permissions already restrict who can connect).
 */
final class PeerCredentials {
    private PeerCredentials() {
    }

    static Actor.LocalOperator of(Request request) {
        try {
            EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
            if (endPoint instanceof SocketChannelEndPoint socket && socket.getChannel() instanceof SocketChannel channel) {
                UnixDomainPrincipal principal = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
                if (principal != null) {
                    return new Actor.LocalOperator(Optional.of(principal.user().getName()), Optional.of(principal.group().getName()));
                }
            }
        } catch (Exception | LinkageError e) {
            // fall through: credentials are informational; the socket permissions are the authentication
        }
        return Actor.LocalOperator.unknown();
    }
}
