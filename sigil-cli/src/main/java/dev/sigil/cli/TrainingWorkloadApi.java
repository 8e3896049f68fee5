package dev.sigil.cli;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sigil.proto.workload.JWTBundlesRequest;
import dev.sigil.proto.workload.JWTBundlesResponse;
import dev.sigil.proto.workload.JWTSVID;
import dev.sigil.proto.workload.JWTSVIDRequest;
import dev.sigil.proto.workload.JWTSVIDResponse;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import dev.sigil.proto.workload.ValidateJWTSVIDRequest;
import dev.sigil.proto.workload.ValidateJWTSVIDResponse;
import dev.sigil.proto.workload.X509SVID;
import dev.sigil.proto.workload.X509SVIDRequest;
import dev.sigil.proto.workload.X509SVIDResponse;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in Workload API for {@link StartupTraining}: answers FetchX509SVID, FetchJWTSVID,
 * FetchJWTBundles and ValidateJWTSVID with fixed, well-formed answers, so the training's
 * {@code sigil agent api} calls go down the path a real agent's answer takes (protobuf parsing, the
 * X.509 decoding, the text and JSON output) and not only the connection-failure path. It holds no
 * secret: the certificate is a public, self-signed one for {@code spiffe://training.test/w} without
 * its key, and the token is not signed.
 */
final class TrainingWorkloadApi implements AutoCloseable {
    private static final String SPIFFE_ID = "spiffe://training.test/w";
    private static final ByteString CERTIFICATE = ByteString.copyFrom(Base64.getDecoder().decode(
            "MIIBZTCCAQugAwIBAgIJAM+Iwj6cMreJMAoGCCqGSM49BAMDMBMxETAPBgNVBAoTCHRyYWluaW5nMCAXDTI1MDEwMTA1MTEwOVoYDzIxMjQx"
                    + "MjA4MDUxMTA5WjATMREwDwYDVQQKEwh0cmFpbmluZzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABIQn65UpSOkHR5F8XsN9j0A9PZwQ"
                    + "cnCLvPuAeTM+1V3QHlmPiDDFWi6YSp8A39ITCu8sUvdx/jo8NLyGHHcjY7OjRjBEMB0GA1UdDgQWBBS7yawXEqzYbG14xmti7iA9/FDB"
                    + "LzAjBgNVHREEHDAahhhzcGlmZmU6Ly90cmFpbmluZy50ZXN0L3cwCgYIKoZIzj0EAwMDSAAwRQIgMZd1kPEL1tlEMMzKrcqKbeC/ovKW"
                    + "4h+kOvHhlRcitbMCIQCHeulfrgTQIGC9JLmGahfG87leEliEgYg7h3O6QWm07Q=="));
    private static final String TOKEN = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzcGlmZmU6Ly90cmFpbmluZy50ZXN0L3cifQ.";

    private final EventLoopGroup group;
    private final Server server;

    private TrainingWorkloadApi(EventLoopGroup group, Server server) {
        this.group = group;
        this.server = server;
    }

    /** Serves the stand-in API on a new Unix socket at {@code socket}; fails where Netty's epoll transport is unavailable. */
    static TrainingWorkloadApi start(Path socket) throws IOException {
        if (!Epoll.isAvailable()) {
            throw new IOException("netty epoll is unavailable here", Epoll.unavailabilityCause());
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, runnable -> {
            Thread thread = new Thread(runnable, "training-workload-api");
            thread.setDaemon(true);
            return thread;
        }, EpollIoHandler.newFactory());
        Server server = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollServerDomainSocketChannel.class)
                .bossEventLoopGroup(group)
                .workerEventLoopGroup(group)
                .directExecutor()
                .addService(new Answers())
                .build();
        try {
            server.start();
        } catch (IOException | RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        return new TrainingWorkloadApi(group, server);
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static final class Answers extends SpiffeWorkloadAPIGrpc.SpiffeWorkloadAPIImplBase {
        @Override
        public void fetchX509SVID(X509SVIDRequest request, StreamObserver<X509SVIDResponse> responses) {
            responses.onNext(X509SVIDResponse.newBuilder()
                    .addSvids(X509SVID.newBuilder().setSpiffeId(SPIFFE_ID).setX509Svid(CERTIFICATE).setBundle(CERTIFICATE).setHint("training"))
                    .putFederatedBundles("federated.test", CERTIFICATE)
                    .build());
            responses.onCompleted();
        }

        @Override
        public void fetchJWTSVID(JWTSVIDRequest request, StreamObserver<JWTSVIDResponse> responses) {
            responses.onNext(JWTSVIDResponse.newBuilder()
                    .addSvids(JWTSVID.newBuilder().setSpiffeId(SPIFFE_ID).setSvid(TOKEN).setHint("training"))
                    .build());
            responses.onCompleted();
        }

        @Override
        public void fetchJWTBundles(JWTBundlesRequest request, StreamObserver<JWTBundlesResponse> responses) {
            responses.onNext(JWTBundlesResponse.newBuilder()
                    .putBundles("training.test", ByteString.copyFrom("{\"keys\":[]}", StandardCharsets.UTF_8))
                    .build());
            responses.onCompleted();
        }

        @Override
        public void validateJWTSVID(ValidateJWTSVIDRequest request, StreamObserver<ValidateJWTSVIDResponse> responses) {
            responses.onNext(ValidateJWTSVIDResponse.newBuilder()
                    .setSpiffeId(SPIFFE_ID)
                    .setClaims(Struct.newBuilder()
                            .putFields("sub", Value.newBuilder().setStringValue(SPIFFE_ID).build())
                            .putFields("exp", Value.newBuilder().setNumberValue(4_102_444_800d).build()))
                    .build());
            responses.onCompleted();
        }
    }
}
