package dev.sigil.agent.workload;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Runs before every Workload API call, before any work: refuses calls without the security header
 * {@code workload.spiffe.io: true} (INVALID_ARGUMENT, as the SPIFFE Workload Endpoint specification
 * requires; the header proves the request was not forged by a browser or proxy via SSRF), and calls on
 * connections without a recorded peer process (PERMISSION_DENIED): no kernel peer credentials, or a
 * process that was gone or could not be inspected when its connection was accepted. It puts the peer
 * process in the call's {@link Context} under {@link #PEER}.
 *
 * <p>Envoy's Secret Discovery Service on the same socket goes through {@link #peerOnly()}: the peer
 * process rule alike, but no header, because Envoy does not send it (SPIRE's agent requires it of
 * Workload API methods only). The SDS caller is attested exactly as a Workload API caller.
 */
final class SecurityHeaderInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> HEADER = Metadata.Key.of("workload.spiffe.io", Metadata.ASCII_STRING_MARSHALLER);
    static final Context.Key<PeerProcess> PEER = Context.key("sigil.peer-process");

    private final boolean requireHeader;

    /** The Workload API's interceptor: security header and peer process. */
    SecurityHeaderInterceptor() {
        this(true);
    }

    private SecurityHeaderInterceptor(boolean requireHeader) {
        this.requireHeader = requireHeader;
    }

    /** Records the peer process (and refuses calls without one) but does not ask for the security header. */
    static SecurityHeaderInterceptor peerOnly() {
        return new SecurityHeaderInterceptor(false);
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String value = headers.get(HEADER);
        if (requireHeader && !"true".equals(value)) {
            call.close(Status.INVALID_ARGUMENT.withDescription(value == null
                    ? "security header 'workload.spiffe.io' is missing; it must be 'true'"
                    : "security header 'workload.spiffe.io' is '" + value + "'; it must be 'true'"), new Metadata());
            return new ServerCall.Listener<>() {};
        }
        PeerProcess peer = call.getAttributes().get(PeerCredentialsNegotiator.PEER);
        if (peer == null) {
            String unrecorded = call.getAttributes().get(PeerCredentialsNegotiator.UNRECORDED);
            call.close(Status.PERMISSION_DENIED.withDescription(unrecorded != null
                    ? unrecorded + "; no identity issued"
                    : "caller has no peer credentials; connect over the agent's unix socket"), new Metadata());
            return new ServerCall.Listener<>() {};
        }
        return Contexts.interceptCall(Context.current().withValue(PEER, peer), call, headers, next);
    }
}
