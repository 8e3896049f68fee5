package dev.sigil.server.svid;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.audit.SecretHasher;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.authority.Authority;
import dev.sigil.server.authority.JwtSvid;
import dev.sigil.server.authority.WitSvid;
import dev.sigil.server.authority.X509Svid;
import dev.sigil.server.status.StatusRef;
import dev.sigil.server.status.TokenStatusRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Issues SVIDs and puts every issuance on the audit trail.
 *
 * <p>Fail closed: an SVID is handed out only after its audit record has been written durably; when
 * the record cannot be written the SVID is discarded and the caller gets the error. JWT-SVIDs are
 * recorded by the keyed hash of the token ({@link SecretHasher}, detail {@code token_hmac}), never the
 * token itself, so a responder holding a leaked token can find its record
 * ({@code POST /v1/audit/find-token}) without the trail holding a usable credential or a hash anyone
 * without the server's key could test guesses against.
 */
public final class SvidIssuer {
    private final Authority authority;
    private final AuditTrail audit;
    private final SecretHasher hasher;
    private final Duration defaultX509Ttl;
    private final Duration defaultJwtTtl;
    private final Optional<TokenStatusRegistry> statuses;

    public SvidIssuer(Authority authority, AuditTrail audit, SecretHasher hasher, Duration defaultX509Ttl, Duration defaultJwtTtl) {
        this(authority, audit, hasher, defaultX509Ttl, defaultJwtTtl, Optional.empty());
    }

    /**
     * With {@code statuses}, every JWT-SVID carries a {@code status} claim and its position is recorded
     * with its audit record, so revoking its holder (drift, ban, leak) marks it on the status list.
     */
    public SvidIssuer(Authority authority, AuditTrail audit, SecretHasher hasher, Duration defaultX509Ttl, Duration defaultJwtTtl,
                      Optional<TokenStatusRegistry> statuses) {
        this.statuses = statuses;
        this.authority = authority;
        this.audit = audit;
        this.hasher = hasher;
        this.defaultX509Ttl = defaultX509Ttl;
        this.defaultJwtTtl = defaultJwtTtl;
    }

    /** Signs the CSR's key into an X.509-SVID; a zero TTL means the server default. */
    public X509Svid issueX509(SpiffeId spiffeId, byte[] csrDer, Duration ttl, List<String> dnsNames, String actor) {
        X509Svid svid = authority.mintX509Svid(spiffeId, csrDer, ttl.isZero() ? defaultX509Ttl : ttl, dnsNames);
        audit.append(AuditEvent.success(actor, "svid.x509.issue", spiffeId.toString(), x509Details(svid, dnsNames)));
        return svid;
    }

    /** One X.509-SVID to sign in a batch; a zero TTL means the server default. */
    public record X509Request(SpiffeId spiffeId, byte[] csrDer, Duration ttl, List<String> dnsNames) {
        public X509Request {
            csrDer = csrDer.clone();
            dnsNames = List.copyOf(dnsNames);
        }
    }

    /** What became of one request of a batch. */
    public sealed interface X509Outcome {
        record Issued(X509Svid svid) implements X509Outcome {
        }

        /** The request itself was refused (bad CSR, bad TTL or DNS name); the message names why. */
        record Refused(String reason) implements X509Outcome {
        }
    }

    /**
     * Signs a batch and records every issued SVID in ONE audit transaction (one durable commit instead
     * of one per SVID). Fail closed as a whole: when the records cannot be written, no SVID of the
     * batch is returned and the exception propagates.
     */
    public List<X509Outcome> issueX509Batch(List<X509Request> requests, String actor) {
        List<X509Outcome> outcomes = new java.util.ArrayList<>(requests.size());
        List<AuditEvent> events = new java.util.ArrayList<>();
        for (X509Request request : requests) {
            try {
                X509Svid svid = authority.mintX509Svid(request.spiffeId(), request.csrDer(),
                        request.ttl().isZero() ? defaultX509Ttl : request.ttl(), request.dnsNames());
                outcomes.add(new X509Outcome.Issued(svid));
                events.add(AuditEvent.success(actor, "svid.x509.issue", request.spiffeId().toString(),
                        x509Details(svid, request.dnsNames())));
            } catch (dev.sigil.server.authority.CsrRejectedException | IllegalArgumentException e) {
                outcomes.add(new X509Outcome.Refused(e.getMessage()));
            }
        }
        audit.appendAll(events);
        return outcomes;
    }

    private static Map<String, String> x509Details(X509Svid svid, List<String> dnsNames) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("serial", svid.leaf().getSerialNumber().toString(16));
        details.put("expires_at", svid.expiresAt().toString());
        if (!dnsNames.isEmpty()) {
            details.put("dns_names", String.join(",", dnsNames));
        }
        return details;
    }

    /**
     * The status (0 valid, 1 revoked) of the token at a status list entry; empty when this server keeps
     * no status lists, or issued no token there.
     */
    public Optional<Integer> tokenStatus(String uri, long idx) {
        return statuses.flatMap(registry -> registry.status(uri, idx));
    }

    /** Mints a JWT-SVID for the audience; a zero TTL means the server default. */
    public JwtSvid issueJwt(SpiffeId spiffeId, Audience audience, Duration ttl, String actor) {
        Duration effective = ttl.isZero() ? defaultJwtTtl : ttl;
        if (statuses.isPresent()) {
            TokenStatusRegistry registry = statuses.get();
            StatusRef ref = registry.allocate();
            JwtSvid svid = authority.mintJwtSvid(spiffeId, audience, effective, registry.claimJson(ref));
            Map<String, String> details = jwtDetails(svid, audience);
            details.put("status_idx", ref.listId() + "/" + ref.index());
            audit.append(AuditEvent.success(actor, "svid.jwt.issue", spiffeId.toString(), details),
                    connection -> registry.record(connection, ref, TokenStatusRegistry.Kind.JWT_SVID,
                            "svid:" + ref.listId() + ":" + ref.index(), spiffeId, svid.expiresAt()));
            return svid;
        }
        JwtSvid svid = authority.mintJwtSvid(spiffeId, audience, effective);
        audit.append(AuditEvent.success(actor, "svid.jwt.issue", spiffeId.toString(), jwtDetails(svid, audience)));
        return svid;
    }

    /**
     * Mints a WIT-SVID bound to {@code confirmationKeyJwk}; a zero TTL means the server's JWT-SVID default. Audited
     * ({@code svid.wit.issue}) with the key id, expiry, {@code jti}, the confirmation key's thumbprint and the
     * token's keyed hash, fail closed like every issuance.
     */
    public WitSvid issueWit(SpiffeId spiffeId, String confirmationKeyJwk, Duration ttl, String actor) {
        WitSvid svid = authority.mintWitSvid(spiffeId, confirmationKeyJwk, ttl.isZero() ? defaultJwtTtl : ttl);
        Map<String, String> details = new LinkedHashMap<>();
        details.put("kid", svid.keyId());
        details.put("jti", svid.jwtId());
        details.put("cnf_jkt", svid.thumbprint());
        details.put("expires_at", svid.expiresAt().toString());
        details.put("token_hmac", hasher.keyedHash(svid.token()));
        audit.append(AuditEvent.success(actor, "svid.wit.issue", spiffeId.toString(), details));
        return svid;
    }

    private Map<String, String> jwtDetails(JwtSvid svid, Audience audience) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("audience", String.join(",", audience.values()));
        details.put("kid", svid.keyId());
        details.put("expires_at", svid.expiresAt().toString());
        details.put("token_hmac", hasher.keyedHash(svid.token()));
        return details;
    }
}
