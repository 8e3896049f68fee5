package dev.sigil.server.federation;

import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.TrustDomain;
import java.net.URI;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A federation relationship as stored: where the foreign trust domain's bundle endpoint is and how it
 * authenticates, the last good bundle (empty until the first successful refresh of an https_web
 * relationship created without one), and how refreshing goes.
 *
 * @param lastRefreshAt when a refresh last succeeded
 * @param lastAttemptAt when a refresh was last tried
 * @param lastError     why refreshes fail, while they do (the last good bundle stays in use); empty once one succeeds
 */
public record FederationRelationship(TrustDomain trustDomain, URI bundleEndpointUrl, BundleEndpointProfile profile,
                                     Optional<SpiffeBundle> bundle, Optional<Instant> lastRefreshAt,
                                     Optional<Instant> lastAttemptAt, Optional<String> lastError, long revision,
                                     Instant createdAt, Instant updatedAt) {
    public FederationRelationship {
        Objects.requireNonNull(trustDomain, "trustDomain");
        Objects.requireNonNull(bundleEndpointUrl, "bundleEndpointUrl");
        Objects.requireNonNull(profile, "profile");
        Objects.requireNonNull(bundle, "bundle");
        Objects.requireNonNull(lastRefreshAt, "lastRefreshAt");
        Objects.requireNonNull(lastAttemptAt, "lastAttemptAt");
        Objects.requireNonNull(lastError, "lastError");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
    }
}
