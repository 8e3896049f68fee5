package dev.sigil.server.admin;

import dev.sigil.core.spiffeid.SpiffeId;

/**
 * Decides whether a SPIFFE ID, already authenticated by mutual TLS, may use the admin API (typically:
 * a registration entry for that ID has its admin flag set). Called on every request over TCP, so a
 * revoked admin loses access at once. Must not throw for an unknown ID: answer {@code false}.
 */
@FunctionalInterface
public interface AdminAuthorizer {
    boolean isAdmin(SpiffeId spiffeId);

    /** Refuses everyone; the safe default when no registration store is wired. */
    static AdminAuthorizer denyAll() {
        return spiffeId -> false;
    }
}
