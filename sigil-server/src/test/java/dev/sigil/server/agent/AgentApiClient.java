package dev.sigil.server.agent;

import com.google.protobuf.ByteString;
import dev.sigil.agent.attestor.NodeAttestorClient;
import dev.sigil.proto.agent.v1.AgentGrpc;
import dev.sigil.proto.agent.v1.AgentSvid;
import dev.sigil.proto.agent.v1.AttestParams;
import dev.sigil.proto.agent.v1.AttestRequest;
import dev.sigil.proto.agent.v1.AttestResponse;
import dev.sigil.server.tls.TlsIdentity;
import io.grpc.ManagedChannel;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.SslContextBuilder;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** A minimal agent for tests: channels with or without an SVID, the Attest conversation, keys and CSRs. */
final class AgentApiClient {
    private AgentApiClient() {
    }

    static ManagedChannel channel(InetSocketAddress address, X509Certificate root, TlsIdentity identity) {
        try {
            SslContextBuilder tls = GrpcSslContexts.forClient().trustManager(root);
            if (identity != null) {
                tls.keyManager(identity.privateKey(), identity.chain().toArray(X509Certificate[]::new));
            }
            return NettyChannelBuilder.forAddress("localhost", address.getPort()).sslContext(tls.build()).build();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static KeyPair keys() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] csr(KeyPair keys) {
        try {
            return new JcaPKCS10CertificationRequestBuilder(new X500Principal("CN=ignored"), keys.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())).getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static List<X509Certificate> certificates(List<ByteString> der) {
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            List<X509Certificate> chain = new ArrayList<>();
            for (ByteString bytes : der) {
                chain.add((X509Certificate) factory.generateCertificate(bytes.newInput()));
            }
            return chain;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static TlsIdentity identity(AgentSvid svid, KeyPair keys) {
        return new TlsIdentity(certificates(svid.getCertChainList()), keys.getPrivate());
    }

    /** Runs the Attest conversation; throws the server's StatusRuntimeException on refusal. */
    static AgentSvid attest(ManagedChannel channel, NodeAttestorClient attestor, byte[] evidence, byte[] csr) {
        BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
        StreamObserver<AttestRequest> requests = AgentGrpc.newStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                .attest(new StreamObserver<>() {
                    @Override
                    public void onNext(AttestResponse value) {
                        inbox.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        inbox.add(t);
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
        requests.onNext(AttestRequest.newBuilder().setParams(AttestParams.newBuilder().setAttestor(attestor.type())
                .setPayload(ByteString.copyFrom(evidence)).setCsr(ByteString.copyFrom(csr))).build());
        while (true) {
            Object next;
            try {
                next = inbox.poll(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            if (next == null) {
                throw new IllegalStateException("no answer from the server");
            }
            if (next instanceof RuntimeException e) {
                throw e;
            }
            if (next instanceof Throwable t) {
                throw new IllegalStateException(t);
            }
            AttestResponse response = (AttestResponse) next;
            if (response.hasResult()) {
                requests.onCompleted();
                return response.getResult();
            }
            requests.onNext(AttestRequest.newBuilder()
                    .setChallengeResponse(ByteString.copyFrom(attestor.respond(response.getChallenge().toByteArray()))).build());
        }
    }

    static AgentSvid attest(ManagedChannel channel, NodeAttestorClient attestor, byte[] csr) {
        return attest(channel, attestor, attestor.evidence(), csr);
    }
}
