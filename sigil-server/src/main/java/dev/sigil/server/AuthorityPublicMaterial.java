package dev.sigil.server;

import dev.sigil.core.bundle.JwtAuthority;
import dev.sigil.server.authority.Authority;
import dev.sigil.server.endpoint.PublicMaterial;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.util.List;
import java.util.Optional;
import dev.sigil.server.status.TokenStatusRegistry;

/** What the bundle endpoint serves, read from the authority's current bundle on every request. */
final class AuthorityPublicMaterial implements PublicMaterial {
    private final Authority authority;
    private final TokenStatusRegistry statuses;
    private final Optional<String> sshUserCa;

    AuthorityPublicMaterial(Authority authority, TokenStatusRegistry statuses, Optional<String> sshUserCa) {
        this.authority = authority;
        this.statuses = statuses;
        this.sshUserCa = sshUserCa;
    }

    @Override
    public Optional<String> sshUserCaPublicKey() {
        return sshUserCa;
    }

    @Override
    public Optional<String> statusList(long listId) {
        return statuses.listToken(listId);
    }

    @Override
    public String bundleJson() {
        return authority.bundle().toJson();
    }

    @Override
    public String jwksJson() {
        return authority.bundle().jwtAuthoritiesJwks();
    }

    @Override
    public List<String> signingAlgorithms() {
        return authority.bundle().jwtAuthorities().stream().map(JwtAuthority::publicKey)
                .map(AuthorityPublicMaterial::algorithm).distinct().sorted().toList();
    }

    private static String algorithm(PublicKey key) {
        if (key instanceof ECPublicKey ec) {
            return ec.getParams().getCurve().getField().getFieldSize() > 256 ? "ES384" : "ES256";
        }
        return "RS256";
    }
}
