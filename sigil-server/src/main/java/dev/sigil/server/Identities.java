package dev.sigil.server;

import dev.sigil.core.SigilException;
import dev.sigil.core.crypto.Pem;
import dev.sigil.server.authority.Authority;
import dev.sigil.server.authority.AuthorityConfig;
import dev.sigil.server.authority.AuthorityKind;
import dev.sigil.server.authority.RotationEvent;
import dev.sigil.server.authority.UpstreamCa;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.status.TokenStatusRegistry;
import dev.sigil.server.svid.ServerIdentity;
import dev.sigil.server.svid.SvidIssuer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The trust domain's authorities and what they sign: the CA and JWT keys (rotated, every step audited), the
 * token status lists, SVID issuance and the server's own X.509-SVID, renewed when the CA changes.
 */
record Identities(Authority authority, TokenStatusRegistry statuses, SvidIssuer issuer, ServerIdentity identity,
                  AtomicBoolean x509AuthorityChanged) {
    static final String ACTOR = "sigil-server";
    /** How long relying parties may cache a token status list (its {@code ttl} claim). */
    private static final Duration STATUS_LIST_TTL = Duration.ofSeconds(30);

    static Identities start(ServerConfig config, Clock clock, Foundation foundation) {
        AtomicBoolean x509AuthorityChanged = new AtomicBoolean();
        // this server's own authorities (its stable id names them); the bundle has every server's
        Authority authority = Authority.start(authorityConfig(config), DataDirectory.serverId(config.dataDir()), config.ca().joinDelay(),
                foundation.datastore(), foundation.keys(), clock, event -> {
            foundation.audit().append(RotationAudit.of(ACTOR, event));
            if (event instanceof RotationEvent.Activated activated && activated.kind() == AuthorityKind.X509) {
                x509AuthorityChanged.set(true);
            }
        });
        TokenStatusRegistry statuses = new TokenStatusRegistry(foundation.datastore(), authority, clock, config.jwtIssuer(),
                STATUS_LIST_TTL);
        SvidIssuer issuer = new SvidIssuer(authority, foundation.audit(), foundation.hasher(), config.defaultX509SvidTtl(),
                config.defaultJwtSvidTtl(), Optional.of(statuses));
        ServerIdentity identity = new ServerIdentity(config.trustDomain().id("/sigil/server"), issuer, clock, config.defaultX509SvidTtl());
        identity.renewIfDue(true);
        return new Identities(authority, statuses, issuer, identity, x509AuthorityChanged);
    }

    /** One rotation step and, when the X.509 authority changed, a new SVID for the server itself. */
    void rotate() {
        authority.tick();
        identity.renewIfDue(x509AuthorityChanged.getAndSet(false));
    }

    private static AuthorityConfig authorityConfig(ServerConfig config) {
        AuthorityConfig authority = AuthorityConfig.defaults(config.trustDomain())
                .withCaKeyType(config.ca().keyType())
                .withCaTtl(config.ca().ttl())
                .withJwtKeyType(config.jwt().keyType())
                .withJwtKeyTtl(config.jwt().keyTtl())
                .withJwtIssuer(config.jwtIssuer().toString())
                .withBundleRefreshHint(config.bundleEndpoint().refreshHint());
        if (config.ca().upstream().isPresent()) {
            authority = authority.withUpstream(upstream(config.ca().upstream().get()));
        }
        return authority;
    }

    private static UpstreamCa upstream(ServerConfig.UpstreamSettings settings) {
        UpstreamCa upstream = UpstreamCa.load(settings.certFile(), settings.keyFile());
        if (settings.bundleFile().isEmpty()) {
            return upstream;
        }
        List<X509Certificate> chain = new ArrayList<>(upstream.chain());
        Path bundle = settings.bundleFile().get();
        try {
            chain.addAll(Pem.parseCertificates(Files.readString(bundle), "ca.upstream.bundle_file " + bundle));
        } catch (IOException e) {
            throw new SigilException("cannot read " + bundle + ": " + e.getMessage(), e);
        }
        return new UpstreamCa(chain, upstream.signer());
    }
}
