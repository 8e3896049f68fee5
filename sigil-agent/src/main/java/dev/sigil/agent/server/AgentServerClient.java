package dev.sigil.agent.server;

import com.google.protobuf.ByteString;
import dev.sigil.agent.attestor.NodeAttestorClient;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.agent.workload.WorkloadDrift;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.crypto.Pem;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.proto.agent.v1.AgentGrpc;
import dev.sigil.proto.agent.v1.BatchSignX509Request;
import dev.sigil.proto.agent.v1.BatchSignX509Response;
import dev.sigil.proto.agent.v1.Bundle;
import dev.sigil.proto.agent.v1.DriftReason;
import dev.sigil.proto.agent.v1.DriftReport;
import dev.sigil.proto.agent.v1.Entry;
import dev.sigil.proto.agent.v1.MintJwtSvidRequest;
import dev.sigil.proto.agent.v1.MintJwtSvidResponse;
import dev.sigil.proto.agent.v1.MintWitSvidRequest;
import dev.sigil.proto.agent.v1.MintWitSvidResponse;
import dev.sigil.proto.agent.v1.RenewAgentRequest;
import dev.sigil.proto.agent.v1.SignX509Request;
import dev.sigil.proto.agent.v1.SignX509Result;
import dev.sigil.proto.agent.v1.SyncEntriesRequest;
import dev.sigil.proto.agent.v1.SyncEntriesResponse;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.handler.ssl.SslContext;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's client of the server's agent API ({@code sigil.agent.v1.Agent}) over TLS.
 *
 * <p>Security: the server is authenticated by {@link SpiffeServerTrust} (chain to the trust bundle, URI
 * SAN exactly {@code spiffe://<td>/sigil/server}, no hostname check). The agent authenticates with its
 * current SVID, read at every handshake from {@code credentials}; call {@link #reconnect()} after the
 * SVID changes so that no connection keeps presenting the old one. Every call has a deadline.
 *
 * <p>Failover: with several server addresses the channel resolves all of them
 * ({@link ServerAddressResolver}) and uses gRPC's {@code pick_first} policy: it connects to the first
 * address that accepts a connection, in the configured order, and after a connection failure or loss
 * tries the addresses again from the first. Every address is authenticated the same way (above). A call
 * fails only when no address answers; the agent then keeps serving what it has cached.
 *
 * <p>Failures are {@link AgentServerException}s; {@link AgentServerException#denied()} marks refusals
 * of the agent itself (PERMISSION_DENIED, UNAUTHENTICATED).
 */
public final class AgentServerClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AgentServerClient.class);
    private static final long DEADLINE_SECONDS = 30;

    private final List<AgentConfig.ServerAddress> addresses;
    /** The configured addresses as one line, for messages. */
    private final String servers;
    private final TrustDomain trustDomain;
    private final SpiffeServerTrust trust;
    private final CurrentSvidKeyManager keyManager;
    private volatile ManagedChannel channel;
    /** The server address the last call reached, to log when it changes. */
    private volatile SocketAddress connectedTo;

    public AgentServerClient(String host, int port, TrustDomain trustDomain, SpiffeServerTrust trust,
                             Supplier<Optional<AgentCredentials>> credentials) {
        this(List.of(new AgentConfig.ServerAddress(host, port)), trustDomain, trust, credentials);
    }

    /** A client of the servers at {@code addresses}, tried in order (one to 16, no duplicates). */
    public AgentServerClient(List<AgentConfig.ServerAddress> addresses, TrustDomain trustDomain, SpiffeServerTrust trust,
                             Supplier<Optional<AgentCredentials>> credentials) {
        this.addresses = AgentConfig.ServerAddress.list(addresses);
        this.servers = this.addresses.size() == 1 ? this.addresses.getFirst().toString()
                : this.addresses.stream().map(Object::toString).collect(Collectors.joining(", ", "[", "]"));
        this.trustDomain = trustDomain;
        this.trust = trust;
        this.keyManager = new CurrentSvidKeyManager(credentials);
        this.channel = newChannel();
        if (this.addresses.size() > 1) {
            LOG.info("agent api servers, tried in this order (failing over on connection errors): {}", servers);
        } else {
            LOG.info("agent api server: {}", servers);
        }
    }

    /** The configured server addresses, in the order they are tried. */
    public List<AgentConfig.ServerAddress> addresses() {
        return addresses;
    }

    private ManagedChannel newChannel() {
        SslContext ssl;
        try {
            ssl = GrpcSslContexts.forClient()
                    .trustManager(trust)
                    .keyManager(keyManager)
                    .endpointIdentificationAlgorithm(null)
                    .build();
        } catch (SSLException e) {
            throw new AgentServerException("cannot build the tls context for the server at " + servers + ": " + e.getMessage(), false, e);
        }
        NettyChannelBuilder builder;
        if (addresses.size() == 1) {
            // one address: gRPC's own DNS resolution; a name resolving to several addresses is tried in order (pick_first)
            builder = NettyChannelBuilder.forAddress(addresses.getFirst().host(), addresses.getFirst().port());
        } else {
            builder = forAddresses();
        }
        return builder.sslContext(ssl).defaultLoadBalancingPolicy("pick_first").intercept(new ConnectedServerLog()).build();
    }

    @SuppressWarnings("deprecation") // nameResolverFactory: the channel's own resolver, not one registered JVM-wide
    private NettyChannelBuilder forAddresses() {
        return NettyChannelBuilder.forTarget(ServerAddressResolver.SCHEME + ":///agent-api")
                .nameResolverFactory(ServerAddressResolver.provider(addresses));
    }

    /** Logs the server address calls reach when it changes (a failover, or the first connection). */
    private final class ConnectedServerLog implements ClientInterceptor {
        @Override
        public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                @Override
                public void start(Listener<R> listener, Metadata headers) {
                    ClientCall<Q, R> call = delegate();
                    super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                        @Override
                        public void onHeaders(Metadata responseHeaders) {
                            SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
                            SocketAddress previous = connectedTo;
                            if (remote != null && !remote.equals(previous)) {
                                connectedTo = remote;
                                if (previous == null) {
                                    LOG.info("connected to the agent api server at {}", remote);
                                } else {
                                    LOG.warn("now connected to the agent api server at {} (was {})", remote, previous);
                                }
                            }
                            super.onHeaders(responseHeaders);
                        }
                    }, headers);
                }
            };
        }
    }

    /** Drops the current connection; the next call handshakes again with the current SVID. */
    public synchronized void reconnect() {
        ManagedChannel old = channel;
        channel = newChannel();
        old.shutdown();
    }

    /**
     * Lets the next call try every address at once instead of waiting out the channel's own reconnect
     * backoff (the agent paces its retries itself).
     */
    public void resetConnectBackoff() {
        channel.resetConnectBackoff();
    }

    private AgentGrpc.AgentBlockingStub blocking() {
        return AgentGrpc.newBlockingStub(channel).withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
    }

    /**
     * Node attestation: sends the attestor's evidence with {@code csr}, answers every challenge with
     * {@link NodeAttestorClient#respond}, and returns the agent SVID the server issues.
     */
    public AgentSvid attest(NodeAttestorClient attestor, byte[] csr) {
        CompletableFuture<dev.sigil.proto.agent.v1.AgentSvid> result;
        try {
            result = AttestExchange.start(attestor, csr,
                    responses -> AgentGrpc.newStub(channel).withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS).attest(responses)).result();
        } catch (IllegalStateException | IllegalArgumentException e) {
            // the node's evidence is not there yet (a token file not yet written): not the server's refusal, retried later
            throw new AgentServerException("cannot attest with " + attestor.type() + ": " + e.getMessage(), false, e);
        }
        try {
            return agentSvid(result.get(DEADLINE_SECONDS + 5, TimeUnit.SECONDS));
        } catch (ExecutionException e) {
            throw failure("attest (" + attestor.type() + ")", e.getCause());
        } catch (TimeoutException e) {
            throw new AgentServerException("attestation with the server at " + servers + " timed out", false, true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentServerException("interrupted while attesting", false, e);
        }
    }

    /** A fresh agent SVID for the key in {@code csr}, authorized by the current SVID. */
    public AgentSvid renew(byte[] csr) {
        try {
            return agentSvid(blocking().renewAgent(RenewAgentRequest.newBuilder().setCsr(ByteString.copyFrom(csr)).build()).getSvid());
        } catch (StatusRuntimeException e) {
            throw failure("renew agent svid", e);
        }
    }

    /** One page of entry changes since {@code sinceRevision}; the bundle when its sequence differs from {@code bundleSequence}. */
    public SyncPage sync(long sinceRevision, long bundleSequence, int limit) {
        return sync(sinceRevision, bundleSequence, "", limit);
    }

    /**
     * Also the federated bundles when their digest differs from {@code federatedDigest}. Each must be of a
     * trust domain other than this one and parse as a SPIFFE bundle of it, or the page is refused.
     */
    public SyncPage sync(long sinceRevision, long bundleSequence, String federatedDigest, int limit) {
        SyncEntriesResponse response;
        try {
            response = blocking().syncEntries(SyncEntriesRequest.newBuilder()
                    .setSinceRevision(sinceRevision).setBundleSequence(bundleSequence).setFederatedBundlesDigest(federatedDigest)
                    .setLimit(limit).build());
        } catch (StatusRuntimeException e) {
            throw failure("sync entries", e);
        }
        List<RegistrationEntry> changed = new ArrayList<>();
        for (Entry entry : response.getChangedList()) {
            changed.add(entry(entry));
        }
        return new SyncPage(changed, response.getRemovedIdsList(), response.getThroughRevision(), response.getMore(),
                response.hasBundle() ? Optional.of(bundle(response.getBundle())) : Optional.empty(), response.getFullState(),
                response.hasFederatedBundles() ? Optional.of(federated(response.getFederatedBundles())) : Optional.empty());
    }

    private SyncPage.FederatedBundles federated(dev.sigil.proto.agent.v1.FederatedBundles message) {
        java.util.Map<TrustDomain, SpiffeBundle> bundles = new java.util.HashMap<>();
        for (Bundle bundle : message.getBundlesList()) {
            TrustDomain domain;
            try {
                domain = TrustDomain.parse(bundle.getTrustDomain());
            } catch (RuntimeException e) {
                throw new AgentServerException("server sent a federated bundle for an invalid trust domain: " + e.getMessage(), false, null);
            }
            if (domain.equals(trustDomain) || bundles.containsKey(domain)) {
                throw new AgentServerException("server sent a federated bundle for '" + domain + "' that is this trust domain's or twice",
                        false, null);
            }
            bundles.put(domain, SpiffeBundle.parse(domain, bundle.getSpiffeBundle().toString(StandardCharsets.UTF_8)));
        }
        return new SyncPage.FederatedBundles(bundles, message.getDigest());
    }

    /** One CSR per request; one result per request, in order. */
    public List<SignResult> batchSign(List<SignRequest> requests) {
        BatchSignX509Request.Builder batch = BatchSignX509Request.newBuilder();
        for (SignRequest request : requests) {
            batch.addRequests(SignX509Request.newBuilder().setEntryId(request.entryId()).setCsr(ByteString.copyFrom(request.csr())));
        }
        BatchSignX509Response response;
        try {
            response = blocking().batchSignX509(batch.build());
        } catch (StatusRuntimeException e) {
            throw failure("batch sign x509", e);
        }
        if (response.getResultsCount() != requests.size()) {
            throw new AgentServerException("server answered " + response.getResultsCount() + " of " + requests.size() + " csrs", false, null);
        }
        List<SignResult> results = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            SignX509Result result = response.getResults(i);
            String entryId = requests.get(i).entryId();
            if (!result.getError().isEmpty() || result.getCertChainCount() == 0) {
                results.add(new SignResult.Refused(entryId, result.getError().isEmpty() ? "no certificate" : result.getError()));
            } else {
                results.add(new SignResult.Signed(entryId, certificates(result.getCertChainList(), "x509-svid of entry " + entryId)));
            }
        }
        return results;
    }

    /**
     * Whether the token at status list entry ({@code uri}, {@code idx}) was revoked; empty when the
     * server issued no token there.
     */
    public Optional<Boolean> tokenRevoked(String uri, long idx) {
        try {
            dev.sigil.proto.agent.v1.TokenStatusResponse response = blocking().tokenStatus(
                    dev.sigil.proto.agent.v1.TokenStatusRequest.newBuilder().setUri(uri).setIdx(idx).build());
            return response.getKnown() ? Optional.of(response.getRevoked()) : Optional.empty();
        } catch (StatusRuntimeException e) {
            throw failure("check the status of a token", e);
        }
    }

    /**
     * One round of continuous node attestation: asks for a quote challenge, answers it with
     * {@code evidence} and returns the server's quote id. A refusal (node drift, lost attestation) is an
     * {@link AgentServerException} that is {@link AgentServerException#denied() denied}.
     */
    public String renewEvidence(dev.sigil.agent.attestor.ContinuousEvidence evidence) {
        byte[] challenge;
        try {
            challenge = blocking().quoteChallenge(dev.sigil.proto.agent.v1.QuoteChallengeRequest.getDefaultInstance())
                    .getChallenge().toByteArray();
        } catch (StatusRuntimeException e) {
            throw failure("get a quote challenge", e);
        }
        byte[] answer = evidence.answer(challenge);
        try {
            return blocking().submitQuote(dev.sigil.proto.agent.v1.SubmitQuoteRequest.newBuilder()
                    .setAnswer(com.google.protobuf.ByteString.copyFrom(answer)).build()).getQuoteId();
        } catch (StatusRuntimeException e) {
            throw failure("submit a quote", e);
        }
    }

    /** A JWT-SVID for {@code entryId} and {@code audience} (at least one). */
    public MintedJwt mintJwt(String entryId, List<String> audience) {
        if (audience.isEmpty()) {
            throw new IllegalArgumentException("a jwt-svid needs at least one audience");
        }
        try {
            MintJwtSvidResponse response = blocking().mintJwtSvid(MintJwtSvidRequest.newBuilder().setEntryId(entryId).addAllAudience(audience).build());
            return new MintedJwt(response.getToken(), Instant.ofEpochSecond(response.getExpiresAtUnixSeconds()));
        } catch (StatusRuntimeException e) {
            throw failure("mint jwt-svid for entry " + entryId, e);
        }
    }

    /**
     * A WIT-SVID for entry {@code entryId} bound to {@code publicKeyJwk} ({@code MintWitSvid}); the private half
     * of the key stays on this node.
     */
    public MintedWit mintWit(String entryId, String publicKeyJwk) {
        try {
            MintWitSvidResponse response = blocking().mintWitSvid(
                    MintWitSvidRequest.newBuilder().setEntryId(entryId).setPublicKeyJwk(publicKeyJwk).build());
            return new MintedWit(response.getToken(), Instant.ofEpochSecond(response.getExpiresAtUnixSeconds()));
        } catch (StatusRuntimeException e) {
            throw failure("mint wit-svid for entry " + entryId, e);
        }
    }

    /**
     * Reports a workload drift ({@code ReportDrift}). {@code reportId} must be the same for every retry of
     * one drift: the server answers a retry with the first drift id.
     */
    public DriftDelivery reportDrift(String reportId, WorkloadDrift drift) {
        DriftReport.Builder report = DriftReport.newBuilder()
                .setReportId(reportId)
                .setPid(drift.pid())
                .setProcessStartTime(drift.startTime())
                .setReason(drift.reason() == WorkloadDrift.Reason.EXITED ? DriftReason.DRIFT_REASON_EXITED
                        : DriftReason.DRIFT_REASON_SELECTORS_CHANGED)
                .setObservedAtUnixMillis(drift.observedAt().toEpochMilli());
        drift.spiffeIdsBefore().stream().map(SpiffeId::toString).sorted().forEach(report::addSpiffeIdsBefore);
        drift.selectorsBefore().stream().sorted().forEach(s -> report.addSelectorsBefore(selector(s)));
        drift.selectorsAfter().stream().sorted().forEach(s -> report.addSelectorsAfter(selector(s)));
        try {
            return new DriftDelivery.Acked(blocking().reportDrift(report.build()).getDriftId());
        } catch (StatusRuntimeException e) {
            String reason = failure("report drift", e).getMessage();
            return switch (e.getStatus().getCode()) {
                case INVALID_ARGUMENT, PERMISSION_DENIED, UNIMPLEMENTED -> new DriftDelivery.Refused(reason);
                default -> new DriftDelivery.Failed(reason);
            };
        } catch (RuntimeException e) {
            return new DriftDelivery.Failed(e.toString());
        }
    }

    private static dev.sigil.proto.agent.v1.Selector selector(Selector selector) {
        return dev.sigil.proto.agent.v1.Selector.newBuilder().setType(selector.type()).setValue(selector.value()).build();
    }

    /** One workload CSR for an entry. */
    public record SignRequest(String entryId, byte[] csr) {
        public SignRequest {
            csr = csr.clone();
        }
    }

    private AgentServerException failure(String call, Throwable cause) {
        if (cause instanceof AgentServerException known) {
            return known;
        }
        Status status = Status.fromThrowable(cause);
        boolean denied = status.getCode() == Status.Code.PERMISSION_DENIED || status.getCode() == Status.Code.UNAUTHENTICATED;
        // a server that fails authentication (chain, SPIFFE ID) is refused, not waited for
        boolean retryable = !authenticationFailure(cause) && switch (status.getCode()) {
            case UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED -> true;
            default -> false;
        };
        String detail = status.getCause() != null ? rootMessage(status.getCause())
                : status.getDescription() != null ? status.getDescription() : "";
        return new AgentServerException("server at " + servers + " failed '" + call + "': "
                + status.getCode().name().toLowerCase() + (detail == null || detail.isEmpty() ? "" : " (" + detail + ")"), denied, retryable, cause);
    }

    private static boolean authenticationFailure(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.security.cert.CertificateException) {
                return true;
            }
        }
        return false;
    }

    /** The innermost cause's message on one line; for TLS failures, our trust manager's reason. */
    private static String rootMessage(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root && !(root instanceof java.security.cert.CertificateException)) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? "" : root.getMessage();
        // transport failures in words, not in the names and errno text of the network library's exceptions
        if (root instanceof java.nio.channels.ClosedChannelException) {
            return "the connection was closed before the server answered";
        }
        if (root instanceof java.net.ConnectException || message.contains("Connection refused")) {
            return "connection refused";
        }
        if (root instanceof java.net.UnknownHostException) {
            return "unknown host " + message;
        }
        if (message.contains("Connection reset")) {
            return "connection reset by the server";
        }
        if (message.isEmpty()) {
            return root.getClass().getSimpleName();
        }
        return message.lines().findFirst().orElse("");
    }

    private AgentSvid agentSvid(dev.sigil.proto.agent.v1.AgentSvid svid) {
        SpiffeId id = SpiffeId.parse(svid.getSpiffeId());
        if (!id.memberOf(trustDomain)) {
            throw new AgentServerException("server issued agent svid '" + id + "' outside trust domain '" + trustDomain + "'", false, null);
        }
        List<Selector> selectors = new ArrayList<>();
        svid.getSelectorsList().forEach(s -> selectors.add(Selector.of(s.getType(), s.getValue())));
        return new AgentSvid(id, certificates(svid.getCertChainList(), "agent svid " + id),
                svid.hasBundle() ? Optional.of(bundle(svid.getBundle())) : Optional.empty(), svid.getTrustLevel(), selectors);
    }

    private SpiffeBundle bundle(Bundle bundle) {
        if (!trustDomain.name().equals(bundle.getTrustDomain())) {
            throw new AgentServerException("server sent a bundle for '" + bundle.getTrustDomain() + "'; expected '" + trustDomain + "'", false, null);
        }
        return SpiffeBundle.parse(trustDomain, bundle.getSpiffeBundle().toString(StandardCharsets.UTF_8));
    }

    private static List<X509Certificate> certificates(List<ByteString> ders, String what) {
        List<X509Certificate> chain = new ArrayList<>();
        for (ByteString der : ders) {
            chain.add(Pem.parseCertificate(der.toByteArray(), what));
        }
        return chain;
    }

    private static RegistrationEntry entry(Entry entry) {
        Set<Selector> selectors = new HashSet<>();
        entry.getSelectorsList().forEach(s -> selectors.add(Selector.of(s.getType(), s.getValue())));
        Set<TrustDomain> federates = new HashSet<>();
        entry.getFederatesWithList().forEach(td -> federates.add(TrustDomain.parse(td)));
        return new RegistrationEntry(entry.getId(), entry.getRevision(), SpiffeId.parse(entry.getSpiffeId()),
                SpiffeId.parse(entry.getParentId()), selectors, Duration.ofSeconds(entry.getX509SvidTtlSeconds()),
                Duration.ofSeconds(entry.getJwtSvidTtlSeconds()), entry.getDnsNamesList(), entry.getHint(),
                entry.getExpiresAtUnixSeconds() > 0 ? Optional.of(Instant.ofEpochSecond(entry.getExpiresAtUnixSeconds())) : Optional.empty(),
                federates, entry.getAdmin());
    }

    @Override
    public void close() {
        ManagedChannel current = channel;
        current.shutdown();
        try {
            if (!current.awaitTermination(5, TimeUnit.SECONDS)) {
                current.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            current.shutdownNow();
        }
    }
}
