package dev.sigil.server.federation;

import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.TrustDomain;
import java.net.URI;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * What an operator asks for when creating or updating a relationship, validated when built: the
 * endpoint URL is {@code https} with a host and no user information, query or fragment; an
 * {@code https_spiffe} endpoint's SPIFFE ID is in the federated trust domain, and its bundle is known
 * (given here as {@code trustDomainBundle}, or kept from before on an update) so that the first fetch
 * can authenticate the endpoint: there is no trust on first use.
 *
 * @param trustDomainBundle the foreign trust domain's bundle to start from; replaces the stored one
 */
public record FederationDraft(TrustDomain trustDomain, URI bundleEndpointUrl, BundleEndpointProfile profile,
                              Optional<SpiffeBundle> trustDomainBundle) {
    public FederationDraft {
        Objects.requireNonNull(trustDomain, "trustDomain");
        Objects.requireNonNull(bundleEndpointUrl, "bundleEndpointUrl");
        Objects.requireNonNull(profile, "profile");
        Objects.requireNonNull(trustDomainBundle, "trustDomainBundle");
        checkUrl(bundleEndpointUrl);
        if (profile instanceof BundleEndpointProfile.HttpsSpiffe spiffe && !spiffe.endpointSpiffeId().memberOf(trustDomain)) {
            throw new IllegalArgumentException("endpoint_spiffe_id '" + spiffe.endpointSpiffeId() + "' is not in trust domain '"
                    + trustDomain + "'; the bundle endpoint of " + trustDomain + " must present an svid of that trust domain");
        }
        if (trustDomainBundle.isPresent() && !trustDomainBundle.get().trustDomain().equals(trustDomain)) {
            throw new IllegalArgumentException("trust_domain_bundle is for '" + trustDomainBundle.get().trustDomain()
                    + "', not '" + trustDomain + "'");
        }
    }

    static void checkUrl(URI url) {
        if (!"https".equals(url.getScheme() == null ? null : url.getScheme().toLowerCase(Locale.ROOT)) || url.getHost() == null
                || url.getRawUserInfo() != null || url.getRawQuery() != null || url.getRawFragment() != null) {
            throw new IllegalArgumentException("bundle_endpoint_url '" + dev.sigil.core.Printable.clip(url.toString())
                    + "' must be an https url with a host and no user information, query or fragment, e.g. https://bundle.example.org/");
        }
    }
}
