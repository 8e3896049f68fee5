package dev.sigil.server.agent;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.proto.agent.v1.AgentGrpc;
import dev.sigil.server.tls.ServerTls;
import dev.sigil.server.tls.TrustBundleSource;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Authenticates every agent API call but Attest, on every call (not once per connection), so a ban or
 * an eviction takes effect at the agent's next call even on an open connection.
 *
 * <p>A call is admitted only when the TLS client certificate chain is a valid X.509-SVID chaining to
 * the trust bundle's current X.509 authorities at the injected clock's time (else UNAUTHENTICATED),
 * and its SPIFFE ID is a registered, non-banned agent whose <em>current</em> SVID has the presented
 * serial (else PERMISSION_DENIED). An SVID superseded by a renewal or re-attestation is refused at
 * once: the agent switches to its new SVID as soon as it receives it, so an older SVID in use
 * afterwards can only be a copy. The admitted {@link Agent} is available to handlers via {@link #AGENT}.
 */
final class AgentAuthenticator implements ServerInterceptor {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AgentAuthenticator.class);
    static final Context.Key<Agent> AGENT = Context.key("sigil-agent");
    /** The caller's network address, for audit records of calls made before authentication (Attest). */
    static final Context.Key<String> PEER = Context.key("sigil-agent-peer");

    private final AgentStore agents;
    private final TrustBundleSource bundle;
    private final Clock clock;

    AgentAuthenticator(AgentStore agents, TrustBundleSource bundle, Clock clock) {
        this.agents = agents;
        this.bundle = bundle;
        this.clock = clock;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String peer = String.valueOf(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
        if (AgentGrpc.getAttestMethod().getFullMethodName().equals(call.getMethodDescriptor().getFullMethodName())) {
            return Contexts.interceptCall(Context.current().withValue(PEER, peer), call, headers, next);
        }
        Agent agent;
        try {
            agent = authenticate(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
        } catch (Refusal refusal) {
            return refuse(call, refusal.status);
        } catch (RuntimeException e) {
            LOG.error("cannot authenticate an agent api call from {}: {}", peer, e.getMessage(), e);
            return refuse(call, Status.UNAVAILABLE.withDescription("the server cannot check the agent registry now; retry later"));
        }
        return Contexts.interceptCall(Context.current().withValue(AGENT, agent).withValue(PEER, peer), call, headers, next);
    }

    private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status) {
        call.close(status, new Metadata());
        return new ServerCall.Listener<>() {
        };
    }

    private Agent authenticate(SSLSession session) throws Refusal {
        X509Certificate[] chain = peerChain(session);
        try {
            ServerTls.verifyClientSvid(chain, bundle, clock);
        } catch (CertificateException e) {
            throw new Refusal(Status.UNAUTHENTICATED.withDescription("client certificate is not a valid agent svid: " + e.getMessage()));
        }
        X509Certificate leaf = chain[0];
        SpiffeId id = ServerTls.spiffeIdOf(leaf).orElseThrow();
        Optional<Agent> found = agents.find(id);
        if (found.isEmpty()) {
            throw new Refusal(Status.PERMISSION_DENIED.withDescription("agent " + id
                    + " is not registered (never attested, or evicted); the node must attest again"));
        }
        Agent agent = found.get();
        if (agent.banned()) {
            throw new Refusal(Status.PERMISSION_DENIED.withDescription("agent " + id + " is banned; evict it to let the node attest again"));
        }
        String serial = leaf.getSerialNumber().toString(16);
        if (!serial.equals(agent.svidSerial())) {
            throw new Refusal(Status.PERMISSION_DENIED.withDescription("agent " + id + " presented svid serial " + serial
                    + " but its current svid has serial " + agent.svidSerial() + "; superseded svids are refused"));
        }
        return agent;
    }

    private static X509Certificate[] peerChain(SSLSession session) throws Refusal {
        if (session == null) {
            throw new Refusal(Status.UNAUTHENTICATED.withDescription("the connection is not tls; the agent api needs mutual tls"));
        }
        Certificate[] certificates;
        try {
            certificates = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            throw new Refusal(Status.UNAUTHENTICATED.withDescription(
                    "no client certificate; every agent api call but Attest needs the agent's x509-svid"));
        }
        X509Certificate[] chain = new X509Certificate[certificates.length];
        for (int i = 0; i < certificates.length; i++) {
            if (!(certificates[i] instanceof X509Certificate x509)) {
                throw new Refusal(Status.UNAUTHENTICATED.withDescription("client certificate is not an x.509 certificate"));
            }
            chain[i] = x509;
        }
        return chain;
    }

    private static final class Refusal extends Exception {
        final Status status;

        Refusal(Status status) {
            super(status.getDescription(), null, false, false);
            this.status = status;
        }
    }
}
