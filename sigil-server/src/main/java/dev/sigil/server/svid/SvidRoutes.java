package dev.sigil.server.svid;

import dev.sigil.core.crypto.Pem;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.admin.AdminRequest;
import dev.sigil.server.admin.ApiException;
import dev.sigil.server.admin.Reply;
import dev.sigil.server.admin.Routes;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.authority.Authority;
import dev.sigil.server.authority.JwtSvid;
import dev.sigil.server.authority.X509Svid;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Admin API routes for ad-hoc SVIDs ({@code /v1/svids/x509}, {@code /v1/svids/jwt}) and the trust
 * bundle ({@code /v1/bundle}). The X.509 route signs a caller-made CSR, so the workload's private key
 * never reaches the server.
 */
public final class SvidRoutes {
    private final SvidIssuer issuer;
    private final Authority authority;

    public SvidRoutes(SvidIssuer issuer, Authority authority) {
        this.issuer = issuer;
        this.authority = authority;
    }

    public Routes routes() {
        return Routes.builder()
                .post("/v1/svids/x509", this::mintX509)
                .post("/v1/svids/jwt", this::mintJwt)
                .get("/v1/bundle", this::bundle)
                .build();
    }

    record X509Request(SpiffeId spiffeId, String csr, Optional<Long> ttl, Optional<List<String>> dnsNames) {
    }

    record X509Reply(SpiffeId spiffeId, String certChainPem, String bundlePem, Instant expiresAt) {
    }

    record JwtRequest(SpiffeId spiffeId, List<String> audience, Optional<Long> ttl) {
    }

    record JwtReply(SpiffeId spiffeId, String token, Instant expiresAt) {
    }

    record PemBundleReply(String trustDomain, String format, String pem) {
    }

    record SpiffeBundleReply(String trustDomain, String format, com.fasterxml.jackson.databind.JsonNode bundle) {
    }

    private Reply mintX509(AdminRequest request) {
        X509Request body = request.body(X509Request.class);
        SpiffeId id = requireId(body.spiffeId());
        if (body.csr() == null || body.csr().isBlank()) {
            throw ApiException.invalidArgument("field 'csr' is required: a PEM certificate request (-----BEGIN CERTIFICATE REQUEST-----)");
        }
        byte[] csrDer = csrDer(body.csr());
        X509Svid svid = issuer.issueX509(id, csrDer, ttl(body.ttl()), body.dnsNames().orElse(List.of()),
                request.actor().describe());
        return Reply.ok(new X509Reply(id, Pem.encodeCertificates(svid.chain()), authority.bundle().x509AuthoritiesPem(),
                svid.expiresAt()));
    }

    private Reply mintJwt(AdminRequest request) {
        JwtRequest body = request.body(JwtRequest.class);
        SpiffeId id = requireId(body.spiffeId());
        if (body.audience() == null || body.audience().isEmpty()) {
            throw ApiException.invalidArgument("field 'audience' is required and must name at least one audience");
        }
        Audience audience = Audience.of(body.audience().get(0),
                body.audience().subList(1, body.audience().size()).toArray(String[]::new));
        JwtSvid svid = issuer.issueJwt(id, audience, ttl(body.ttl()), request.actor().describe());
        return Reply.ok(new JwtReply(id, svid.token(), svid.expiresAt()));
    }

    private Reply bundle(AdminRequest request) {
        String format = request.query("format").orElse("spiffe");
        String trustDomain = authority.trustDomain().name();
        return switch (format) {
            case "pem" -> Reply.ok(new PemBundleReply(trustDomain, "pem", authority.bundle().x509AuthoritiesPem()));
            case "spiffe" -> Reply.ok(new SpiffeBundleReply(trustDomain, "spiffe", parse(authority.bundle().toJson())));
            default -> throw ApiException.invalidArgument("query parameter 'format' is '" + format + "'; valid: pem, spiffe");
        };
    }

    private SpiffeId requireId(SpiffeId id) {
        if (id == null) {
            throw ApiException.invalidArgument("field 'spiffe_id' is required");
        }
        if (!id.memberOf(authority.trustDomain())) {
            throw ApiException.invalidArgument("field 'spiffe_id' is '" + id + "', outside this server's trust domain '"
                    + authority.trustDomain() + "'");
        }
        if (id.path().isEmpty()) {
            throw ApiException.invalidArgument("field 'spiffe_id' is '" + id + "', which names the trust domain itself; an svid needs a path");
        }
        return id;
    }

    private static Duration ttl(Optional<Long> ttl) {
        long seconds = ttl.orElse(0L);
        if (seconds == 0) {
            return Duration.ZERO;
        }
        if (seconds < 0) {
            throw ApiException.invalidArgument("field 'ttl' is " + seconds + "; a ttl is a positive number of seconds");
        }
        return Duration.ofSeconds(seconds);
    }

    private static byte[] csrDer(String pem) {
        List<byte[]> blocks;
        try {
            blocks = Pem.decodeBlocks(pem, "CERTIFICATE REQUEST", "field 'csr'");
        } catch (RuntimeException e) {
            throw ApiException.invalidArgument(e.getMessage());
        }
        if (blocks.size() != 1) {
            throw ApiException.invalidArgument("field 'csr' holds " + blocks.size()
                    + " certificate requests; exactly one PEM block 'CERTIFICATE REQUEST' is expected");
        }
        return blocks.get(0);
    }

    private static com.fasterxml.jackson.databind.JsonNode parse(String json) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("the server's own bundle is not json", e);
        }
    }
}
