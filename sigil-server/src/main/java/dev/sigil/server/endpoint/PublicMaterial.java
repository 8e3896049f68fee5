package dev.sigil.server.endpoint;

import java.util.List;
import java.util.Optional;

/**
 * The public, read-only material the bundle endpoint serves, implemented by the authority. Called on
 * every request, so implementations return their current snapshot cheaply (pre-serialized JSON).
 * Nothing here may contain private key material. Throwing {@link IllegalStateException} means "not
 * available yet" and is answered with 503.
 */
public interface PublicMaterial {
    /** The trust domain's SPIFFE bundle: a JWKS with {@code spiffe_sequence} and {@code spiffe_refresh_hint}. */
    String bundleJson();

    /** A JWKS of the public JWT-SVID signing keys, each with {@code kid}, {@code use} and {@code alg}. */
    String jwksJson();

    /** The JWS algorithms of the current signing keys (e.g. {@code ES256}), for OIDC discovery. */
    List<String> signingAlgorithms();

    /**
     * The signed token status list {@code listId} ({@code statuslist+jwt}), or empty when there is no
     * such list. Revocation state only: no token, holder or index is in it besides the bits.
     */
    default Optional<String> statusList(long listId) {
        return Optional.empty();
    }

    /**
     * The SSH user CA public key line for sshd's {@code TrustedUserCAKeys}
     * ({@code ecdsa-sha2-nistp256 AAAA... comment}), served at {@code /ssh/user-ca.pub}; empty when no
     * ssh broker is configured (then that path is a 404).
     */
    default Optional<String> sshUserCaPublicKey() {
        return Optional.empty();
    }
}
