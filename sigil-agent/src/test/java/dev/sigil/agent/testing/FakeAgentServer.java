package dev.sigil.agent.testing;

import com.google.protobuf.ByteString;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.proto.agent.v1.AgentGrpc;
import dev.sigil.proto.agent.v1.AgentSvid;
import dev.sigil.proto.agent.v1.AttestRequest;
import dev.sigil.proto.agent.v1.AttestResponse;
import dev.sigil.proto.agent.v1.BatchSignX509Request;
import dev.sigil.proto.agent.v1.BatchSignX509Response;
import dev.sigil.proto.agent.v1.Bundle;
import dev.sigil.proto.agent.v1.Entry;
import dev.sigil.proto.agent.v1.MintJwtSvidRequest;
import dev.sigil.proto.agent.v1.MintJwtSvidResponse;
import dev.sigil.proto.agent.v1.RenewAgentRequest;
import dev.sigil.proto.agent.v1.RenewAgentResponse;
import dev.sigil.proto.agent.v1.SignX509Request;
import dev.sigil.proto.agent.v1.SignX509Result;
import dev.sigil.proto.agent.v1.SyncEntriesRequest;
import dev.sigil.proto.agent.v1.SyncEntriesResponse;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.ClientAuth;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedTrustManager;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * An in-process agent API server over real TLS on 127.0.0.1, signing with a {@link TestCa} and the
 * test's clock. Attestation types: {@code fake_pop} (one challenge, answer "pop:"+nonce) and
 * {@code join_token} (single-use tokens). Every call but Attest requires the current agent SVID as
 * client certificate. Counters and switches let tests observe and steer it.
 */
public final class FakeAgentServer implements AutoCloseable {
    private static final Context.Key<X509Certificate> CLIENT = Context.key("client-certificate");

    private final TrustDomain trustDomain;
    private final Clock clock;
    private final TestCa ca;
    private final Server server;
    private final SecureRandom random = new SecureRandom();

    public volatile Duration agentTtl = Duration.ofHours(1);
    public volatile int pageSize = 1000;
    /** The next authenticated call is refused with PERMISSION_DENIED (an evicted agent). */
    public volatile boolean refuseNextCall;
    /** The next sync answers with the full state (all entries, full_state = true). */
    public volatile boolean fullStateNext;
    /** Attestation is refused with PERMISSION_DENIED. */
    public volatile boolean refuseAttestation;

    public final AtomicInteger attestations = new AtomicInteger();
    public final AtomicInteger renewals = new AtomicInteger();
    public final AtomicInteger syncCalls = new AtomicInteger();
    public final AtomicInteger batchSignCalls = new AtomicInteger();
    public final AtomicInteger signedSvids = new AtomicInteger();
    public final AtomicInteger jwtMints = new AtomicInteger();
    public final AtomicReference<X509Certificate> lastClientCertificate = new AtomicReference<>();

    private final Set<String> usedTokens = new HashSet<>();
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, Long> removed = new LinkedHashMap<>();
    private long revision;
    private long bundleSequence = 1;
    private volatile String agentId;

    /** A server presenting {@code spiffe://<td>/sigil/server}. */
    public static FakeAgentServer start(TrustDomain trustDomain, Clock clock) {
        return start(trustDomain, clock, trustDomain.idString() + "/sigil/server");
    }

    /** A server presenting {@code serverUri} in its certificate. */
    public static FakeAgentServer start(TrustDomain trustDomain, Clock clock, String serverUri) {
        return new FakeAgentServer(trustDomain, clock, serverUri);
    }

    private FakeAgentServer(TrustDomain trustDomain, Clock clock, String serverUri) {
        this.trustDomain = trustDomain;
        this.clock = clock;
        this.ca = new TestCa(trustDomain.name(), clock.instant());
        try {
            KeyPair serverKeys = TestCa.ecKeys();
            X509Certificate serverCert = ca.issue(serverUri, serverKeys.getPublic(),
                    clock.instant().minus(Duration.ofHours(1)), clock.instant().plus(Duration.ofDays(1)));
            server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                    .sslContext(GrpcSslContexts.configure(io.netty.handler.ssl.SslContextBuilder.forServer(serverKeys.getPrivate(), serverCert, ca.certificate()))
                            .clientAuth(ClientAuth.OPTIONAL)
                            .trustManager(new SignedByCa(ca.certificate()))
                            .build())
                    .addService(ServerInterceptors.intercept(new Service(), new ClientCertificates()))
                    .build()
                    .start();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public int port() {
        return server.getPort();
    }

    public X509Certificate caCertificate() {
        return ca.certificate();
    }

    public String agentId() {
        return agentId;
    }

    /** Adds or replaces an entry (bumping the revision). */
    public synchronized void putEntry(String id, String spiffeId, Duration x509Ttl, String... selectors) {
        Entry.Builder entry = Entry.newBuilder().setId(id).setRevision(++revision).setSpiffeId(spiffeId)
                .setParentId(agentId == null ? trustDomain.idString() + "/agent" : agentId)
                .setX509SvidTtlSeconds(x509Ttl.toSeconds()).setJwtSvidTtlSeconds(300).setHint(id);
        for (String selector : selectors) {
            Selector parsed = Selector.parse(selector);
            entry.addSelectors(dev.sigil.proto.agent.v1.Selector.newBuilder().setType(parsed.type()).setValue(parsed.value()));
        }
        entries.put(id, entry.build());
        removed.remove(id);
    }

    /** Drops an entry without a tombstone: only a full-state sync tells the agent. */
    public synchronized void forgetEntry(String id) {
        entries.remove(id);
        revision++;
    }

    public synchronized void removeEntry(String id) {
        if (entries.remove(id) != null) {
            removed.put(id, ++revision);
        }
    }

    /** Publishes a new bundle sequence (same authority). */
    public synchronized void bumpBundle() {
        bundleSequence++;
    }

    private Bundle bundle() {
        String json = new SpiffeBundle(trustDomain, List.of(ca.certificate()), List.of(), bundleSequence, java.util.Optional.empty()).toJson();
        return Bundle.newBuilder().setTrustDomain(trustDomain.name()).setSequence(bundleSequence)
                .setSpiffeBundle(ByteString.copyFrom(json, StandardCharsets.UTF_8)).build();
    }

    private PublicKey csrKey(ByteString csr) {
        try {
            return new JcaPKCS10CertificationRequest(new PKCS10CertificationRequest(csr.toByteArray())).getPublicKey();
        } catch (Exception e) {
            throw Status.INVALID_ARGUMENT.withDescription("bad csr: " + e.getMessage()).asRuntimeException();
        }
    }

    private AgentSvid issueAgent(PublicKey key, String id) {
        Instant now = clock.instant();
        X509Certificate leaf = ca.issue(id, key, now, now.plus(agentTtl));
        agentId = id;
        return AgentSvid.newBuilder().setSpiffeId(id).addCertChain(der(leaf)).setBundle(bundle()).setTrustLevel(2)
                .setExpiresAtUnixSeconds(now.plus(agentTtl).getEpochSecond()).build();
    }

    private static ByteString der(X509Certificate certificate) {
        try {
            return ByteString.copyFrom(certificate.getEncoded());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Refuses calls without the current agent's certificate, or when told to refuse. */
    private void authenticate() {
        X509Certificate client = CLIENT.get();
        if (client == null) {
            throw Status.UNAUTHENTICATED.withDescription("no client certificate").asRuntimeException();
        }
        lastClientCertificate.set(client);
        if (refuseNextCall) {
            refuseNextCall = false;
            throw Status.PERMISSION_DENIED.withDescription("agent is evicted").asRuntimeException();
        }
        String uri;
        try {
            uri = String.valueOf(client.getSubjectAlternativeNames().iterator().next().get(1));
        } catch (Exception e) {
            throw Status.UNAUTHENTICATED.withDescription("no uri san").asRuntimeException();
        }
        if (!uri.equals(agentId)) {
            throw Status.PERMISSION_DENIED.withDescription("unknown agent " + uri).asRuntimeException();
        }
        if (!clock.instant().isBefore(client.getNotAfter().toInstant())) {
            throw Status.UNAUTHENTICATED.withDescription("agent svid expired").asRuntimeException();
        }
    }

    private final class Service extends AgentGrpc.AgentImplBase {
        @Override
        public StreamObserver<AttestRequest> attest(StreamObserver<AttestResponse> responses) {
            return new StreamObserver<>() {
                private AttestRequest first;
                private byte[] nonce;

                @Override
                public void onNext(AttestRequest request) {
                    try {
                        if (first == null) {
                            first = request;
                            if (refuseAttestation) {
                                throw Status.PERMISSION_DENIED.withDescription("attestation refused").asRuntimeException();
                            }
                            String type = request.getParams().getAttestor();
                            String evidence = request.getParams().getPayload().toStringUtf8();
                            if (type.equals("join_token")) {
                                synchronized (usedTokens) {
                                    if (!usedTokens.add(evidence)) {
                                        throw Status.PERMISSION_DENIED.withDescription("join token already used").asRuntimeException();
                                    }
                                }
                                finish(trustDomain.idString() + "/sigil/agent/join_token/" + evidence);
                            } else if (type.equals("fake_pop")) {
                                nonce = new byte[16];
                                random.nextBytes(nonce);
                                responses.onNext(AttestResponse.newBuilder().setChallenge(ByteString.copyFrom(nonce)).build());
                            } else {
                                throw Status.INVALID_ARGUMENT.withDescription("unknown attestor " + type).asRuntimeException();
                            }
                        } else {
                            byte[] expected = ("pop:" + "").getBytes(StandardCharsets.UTF_8);
                            byte[] answer = request.getChallengeResponse().toByteArray();
                            byte[] want = new byte[expected.length + nonce.length];
                            System.arraycopy(expected, 0, want, 0, expected.length);
                            System.arraycopy(nonce, 0, want, expected.length, nonce.length);
                            if (!Arrays.equals(answer, want)) {
                                throw Status.PERMISSION_DENIED.withDescription("wrong challenge response").asRuntimeException();
                            }
                            finish(trustDomain.idString() + "/sigil/agent/fake_pop/" + first.getParams().getPayload().toStringUtf8());
                        }
                    } catch (io.grpc.StatusRuntimeException e) {
                        responses.onError(e);
                    }
                }

                private void finish(String id) {
                    attestations.incrementAndGet();
                    synchronized (FakeAgentServer.this) {
                        responses.onNext(AttestResponse.newBuilder().setResult(issueAgent(csrKey(first.getParams().getCsr()), id)).build());
                    }
                    responses.onCompleted();
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                }
            };
        }

        @Override
        public void renewAgent(RenewAgentRequest request, StreamObserver<RenewAgentResponse> responses) {
            try {
                authenticate();
                renewals.incrementAndGet();
                synchronized (FakeAgentServer.this) {
                    responses.onNext(RenewAgentResponse.newBuilder().setSvid(issueAgent(csrKey(request.getCsr()), agentId)).build());
                }
                responses.onCompleted();
            } catch (io.grpc.StatusRuntimeException e) {
                responses.onError(e);
            }
        }

        @Override
        public void syncEntries(SyncEntriesRequest request, StreamObserver<SyncEntriesResponse> responses) {
            try {
                authenticate();
                syncCalls.incrementAndGet();
                SyncEntriesResponse.Builder out = SyncEntriesResponse.newBuilder();
                synchronized (FakeAgentServer.this) {
                    if (fullStateNext) {
                        fullStateNext = false;
                        out.addAllChanged(entries.values()).setFullState(true).setThroughRevision(revision);
                        if (request.getBundleSequence() != bundleSequence) {
                            out.setBundle(bundle());
                        }
                        responses.onNext(out.build());
                        responses.onCompleted();
                        return;
                    }
                    record Change(long revision, Entry entry, String removedId) {
                    }
                    List<Change> changes = new ArrayList<>();
                    entries.values().stream().filter(e -> e.getRevision() > request.getSinceRevision())
                            .forEach(e -> changes.add(new Change(e.getRevision(), e, null)));
                    removed.forEach((id, rev) -> {
                        if (rev > request.getSinceRevision()) {
                            changes.add(new Change(rev, null, id));
                        }
                    });
                    changes.sort(Comparator.comparingLong(Change::revision));
                    int limit = Math.min(pageSize, request.getLimit() > 0 ? request.getLimit() : pageSize);
                    List<Change> page = changes.subList(0, Math.min(limit, changes.size()));
                    for (Change change : page) {
                        if (change.entry() != null) {
                            out.addChanged(change.entry());
                        } else {
                            out.addRemovedIds(change.removedId());
                        }
                    }
                    out.setThroughRevision(page.isEmpty() ? Math.max(request.getSinceRevision(), 0) : page.get(page.size() - 1).revision());
                    if (page.isEmpty()) {
                        out.setThroughRevision(Math.max(request.getSinceRevision(), revision));
                    }
                    out.setMore(changes.size() > page.size());
                    if (request.getBundleSequence() != bundleSequence) {
                        out.setBundle(bundle());
                    }
                }
                responses.onNext(out.build());
                responses.onCompleted();
            } catch (io.grpc.StatusRuntimeException e) {
                responses.onError(e);
            }
        }

        @Override
        public void batchSignX509(BatchSignX509Request request, StreamObserver<BatchSignX509Response> responses) {
            try {
                authenticate();
                batchSignCalls.incrementAndGet();
                BatchSignX509Response.Builder out = BatchSignX509Response.newBuilder();
                Instant now = clock.instant();
                for (SignX509Request sign : request.getRequestsList()) {
                    Entry entry;
                    synchronized (FakeAgentServer.this) {
                        entry = entries.get(sign.getEntryId());
                    }
                    if (entry == null) {
                        out.addResults(SignX509Result.newBuilder().setEntryId(sign.getEntryId()).setError("no such entry"));
                        continue;
                    }
                    Instant notAfter = now.plusSeconds(entry.getX509SvidTtlSeconds());
                    X509Certificate leaf = ca.issue(entry.getSpiffeId(), csrKey(sign.getCsr()), now, notAfter);
                    signedSvids.incrementAndGet();
                    out.addResults(SignX509Result.newBuilder().setEntryId(sign.getEntryId()).addCertChain(der(leaf))
                            .setExpiresAtUnixSeconds(notAfter.getEpochSecond()));
                }
                responses.onNext(out.build());
                responses.onCompleted();
            } catch (io.grpc.StatusRuntimeException e) {
                responses.onError(e);
            }
        }

        @Override
        public void mintJwtSvid(MintJwtSvidRequest request, StreamObserver<MintJwtSvidResponse> responses) {
            try {
                authenticate();
                int n = jwtMints.incrementAndGet();
                responses.onNext(MintJwtSvidResponse.newBuilder()
                        .setToken("jwt-" + n + "-" + request.getEntryId() + "-" + String.join(",", request.getAudienceList()))
                        .setExpiresAtUnixSeconds(clock.instant().plusSeconds(300).getEpochSecond()).build());
                responses.onCompleted();
            } catch (io.grpc.StatusRuntimeException e) {
                responses.onError(e);
            }
        }
    }

    /** Puts the TLS client certificate, if any, into the call's context. */
    private static final class ClientCertificates implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            X509Certificate client = null;
            SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
            if (session != null) {
                try {
                    Certificate[] peer = session.getPeerCertificates();
                    client = peer.length > 0 ? (X509Certificate) peer[0] : null;
                } catch (SSLPeerUnverifiedException e) {
                    client = null;
                }
            }
            return Contexts.interceptCall(Context.current().withValue(CLIENT, client), call, headers, next);
        }
    }

    /** Accepts client chains whose leaf the CA signed, at any time (the test clock runs ahead of the real one). */
    private static final class SignedByCa extends X509ExtendedTrustManager {
        private final X509Certificate ca;

        SignedByCa(X509Certificate ca) {
            this.ca = ca;
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            try {
                chain[0].verify(ca.getPublicKey());
            } catch (Exception e) {
                throw new CertificateException("client certificate not signed by the test ca", e);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("not a client");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            throw new CertificateException("not a client");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            throw new CertificateException("not a client");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[] {ca};
        }
    }

    @Override
    public void close() {
        server.shutdownNow();
    }
}
