package dev.sigil.cli;

import dev.sigil.proto.workload.JWTBundlesRequest;
import dev.sigil.proto.workload.JWTBundlesResponse;
import dev.sigil.proto.workload.JWTSVIDRequest;
import dev.sigil.proto.workload.JWTSVIDResponse;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc.SpiffeWorkloadAPIBlockingStub;
import dev.sigil.proto.workload.ValidateJWTSVIDRequest;
import dev.sigil.proto.workload.ValidateJWTSVIDResponse;
import dev.sigil.proto.workload.X509SVIDRequest;
import dev.sigil.proto.workload.X509SVIDResponse;
import dev.sigil.core.time.Durations;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.FileNotFoundException;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A client of the SPIFFE Workload API on the agent's Unix socket (gRPC, plaintext: the socket is local
 * and the agent identifies this process by its kernel peer credentials). Every call carries the
 * {@code workload.spiffe.io: true} header and a deadline. Streaming calls return their first response
 * and are then cancelled. Failures are {@link CliException}s with one line naming the socket or the
 * agent's reason and the gRPC status code.
 */
final class WorkloadApiClient implements AutoCloseable {
    private static final Metadata.Key<String> SECURITY_HEADER = Metadata.Key.of("workload.spiffe.io", Metadata.ASCII_STRING_MARSHALLER);

    private final WorkloadEndpoint endpoint;
    private final Duration timeout;
    private final EventLoopGroup group;
    private final ManagedChannel channel;
    private final SpiffeWorkloadAPIBlockingStub stub;

    WorkloadApiClient(WorkloadEndpoint endpoint, Duration timeout) {
        if (!Epoll.isAvailable()) {
            throw new CliException("cannot use unix sockets: netty epoll is unavailable here (linux x86_64 only): "
                    + Epoll.unavailabilityCause().getMessage());
        }
        this.endpoint = endpoint;
        this.timeout = timeout;
        this.group = new MultiThreadIoEventLoopGroup(1, runnable -> {
            Thread thread = new Thread(runnable, "sigil-workload-api-client");
            thread.setDaemon(true);
            return thread;
        }, EpollIoHandler.newFactory());
        this.channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(endpoint.socket().toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(group)
                // gRPC asks for TCP keep-alive by default; a Unix socket has none (a null value drops the option)
                .withOption(ChannelOption.SO_KEEPALIVE, null)
                .usePlaintext()
                .build();
        Metadata headers = new Metadata();
        headers.put(SECURITY_HEADER, "true");
        this.stub = SpiffeWorkloadAPIGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    /** The first response of FetchX509SVID: this process's X.509-SVIDs with keys, and bundles. */
    X509SVIDResponse fetchX509Svids() {
        return first("x509-svids", s -> s.fetchX509SVID(X509SVIDRequest.getDefaultInstance()));
    }

    /** FetchJWTSVID for {@code audience}; only {@code spiffeId}'s SVID when given. */
    JWTSVIDResponse fetchJwtSvids(List<String> audience, Optional<String> spiffeId) {
        JWTSVIDRequest.Builder request = JWTSVIDRequest.newBuilder().addAllAudience(audience);
        spiffeId.ifPresent(request::setSpiffeId);
        return unary("jwt-svids", s -> s.fetchJWTSVID(request.build()));
    }

    /** The first response of FetchJWTBundles: JWKS per trust domain. */
    JWTBundlesResponse fetchJwtBundles() {
        return first("jwt bundles", s -> s.fetchJWTBundles(JWTBundlesRequest.getDefaultInstance()));
    }

    /** The first response of FetchWITSVID: this process's WIT-SVIDs with their keys (only {@code spiffeId}'s when given). */
    dev.sigil.proto.workload.WITSVIDResponse fetchWitSvids(Optional<String> spiffeId) {
        dev.sigil.proto.workload.WITSVIDRequest.Builder request = dev.sigil.proto.workload.WITSVIDRequest.newBuilder();
        spiffeId.ifPresent(request::setSpiffeId);
        return first("wit-svids", s -> s.fetchWITSVID(request.build()));
    }

    /** The first response of FetchWITBundles: a JWKS of wit-svid keys per trust domain. */
    dev.sigil.proto.workload.WITBundlesResponse fetchWitBundles() {
        return first("wit bundles", s -> s.fetchWITBundles(dev.sigil.proto.workload.WITBundlesRequest.getDefaultInstance()));
    }

    /** ValidateJWTSVID: the agent checks {@code token}'s signature, expiry and audience. */
    ValidateJWTSVIDResponse validateJwtSvid(String audience, String token) {
        return unary("jwt-svid validation", s -> s.validateJWTSVID(
                ValidateJWTSVIDRequest.newBuilder().setAudience(audience).setSvid(token).build()));
    }

    private <T> T unary(String what, Function<SpiffeWorkloadAPIBlockingStub, T> call) {
        try {
            return call.apply(stub.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS));
        } catch (StatusRuntimeException e) {
            throw failure(what, e);
        }
    }

    private <T> T first(String what, Function<SpiffeWorkloadAPIBlockingStub, Iterator<T>> call) {
        // the stream is bound to this context; cancelling it ends the call once the first answer is in
        Context.CancellableContext scope = Context.current().withCancellation();
        Context previous = scope.attach();
        try {
            Iterator<T> responses = call.apply(stub.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS));
            if (!responses.hasNext()) {
                throw new CliException("the workload api at " + endpoint + " ended the " + what + " stream without an answer");
            }
            return responses.next();
        } catch (StatusRuntimeException e) {
            throw failure(what, e);
        } finally {
            scope.detach(previous);
            scope.cancel(null);
        }
    }

    private CliException failure(String what, StatusRuntimeException e) {
        Status status = e.getStatus();
        String reason = Optional.ofNullable(status.getDescription()).filter(d -> !d.isBlank()).orElse("");
        String code = " (" + status.getCode() + ")";
        String message = switch (status.getCode()) {
            case UNAVAILABLE -> status.getCause() != null
                    // no answer from an agent at all: the transport failed (missing socket, refused connection)
                    ? "cannot reach the workload api at " + endpoint + ": " + transportReason(status.getCause())
                            + " (is 'sigil agent run' running?)"
                    : "the workload api is unavailable: " + orDefault(reason, "no reason given") + "; retry later" + code;
            case PERMISSION_DENIED -> "the workload api refused this process: "
                    + orDefault(reason, "no identity is registered for it") + code;
            case INVALID_ARGUMENT -> "the workload api rejected the " + what + " request: " + orDefault(reason, "no reason given") + code;
            case DEADLINE_EXCEEDED -> "the workload api at " + endpoint + " sent no " + what + " within " + Durations.format(timeout)
                    + (what.equals("x509-svids") ? "; the agent may not have synced with the server yet" : "") + code;
            default -> "the workload api call for " + what + " failed: " + orDefault(reason, "no reason given") + code;
        };
        return new CliException(message, 1, e);
    }

    private static String orDefault(String value, String fallback) {
        return value.isEmpty() ? fallback : value;
    }

    /** The innermost message of a connect failure, without Netty's "connect(..) failed with error(-111): " prefix or the path. */
    private String transportReason(Throwable cause) {
        String text = null;
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                text = t.getMessage();
            } else if (t instanceof FileNotFoundException) {
                // netty's epoll transport reports ENOENT without a message
                text = "no such file or directory";
            }
        }
        if (text == null) {
            return cause.getClass().getSimpleName();
        }
        text = text.replaceFirst("^connect\\(\\.\\.\\) failed( with error\\(-?\\d+\\))?: ", "");
        String suffix = ": " + endpoint;
        if (text.endsWith(suffix)) {
            text = text.substring(0, text.length() - suffix.length());
        }
        return text.isEmpty() ? text : text.substring(0, 1).toLowerCase(Locale.ROOT) + text.substring(1);
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
