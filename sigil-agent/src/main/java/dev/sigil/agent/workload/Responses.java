package dev.sigil.agent.workload;

import com.google.protobuf.ByteString;
import dev.sigil.agent.workload.WorkloadIdentities.Bundles;
import dev.sigil.agent.workload.WorkloadIdentities.X509Identity;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.proto.workload.JWTBundlesResponse;
import dev.sigil.proto.workload.WITBundlesResponse;
import dev.sigil.proto.workload.WITSVID;
import dev.sigil.proto.workload.WITSVIDResponse;
import dev.sigil.proto.workload.X509BundlesResponse;
import dev.sigil.proto.workload.X509SVID;
import dev.sigil.proto.workload.X509SVIDResponse;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Builds Workload API messages from the cache's snapshots. Bundle maps are keyed {@code spiffe://<trust domain>}. */
final class Responses {
    private Responses() {}

    static X509SVIDResponse x509Svids(List<X509Identity> identities, Bundles bundles) {
        X509SVIDResponse.Builder response = X509SVIDResponse.newBuilder();
        for (X509Identity identity : identities) {
            TrustDomain domain = identity.spiffeId().trustDomain();
            ByteString bundle = bundleOf(bundles, domain).map(b -> der(b.x509Authorities())).orElse(ByteString.EMPTY);
            response.addSvids(X509SVID.newBuilder()
                    .setSpiffeId(identity.spiffeId().toString())
                    .setX509Svid(der(identity.chain()))
                    .setX509SvidKey(ByteString.copyFrom(identity.privateKeyPkcs8()))
                    .setBundle(bundle)
                    .setHint(identity.hint()));
            for (TrustDomain federated : identity.federatesWith()) {
                SpiffeBundle federatedBundle = bundles.federated().get(federated);
                if (federatedBundle != null) {
                    response.putFederatedBundles(federated.idString(), der(federatedBundle.x509Authorities()));
                }
            }
        }
        return response.build();
    }

    static X509BundlesResponse x509Bundles(Bundles bundles) {
        X509BundlesResponse.Builder response = X509BundlesResponse.newBuilder();
        response.putBundles(bundles.own().trustDomain().idString(), der(bundles.own().x509Authorities()));
        for (Map.Entry<TrustDomain, SpiffeBundle> entry : bundles.federated().entrySet()) {
            response.putBundles(entry.getKey().idString(), der(entry.getValue().x509Authorities()));
        }
        return response.build();
    }

    static JWTBundlesResponse jwtBundles(Bundles bundles) {
        JWTBundlesResponse.Builder response = JWTBundlesResponse.newBuilder();
        response.putBundles(bundles.own().trustDomain().idString(), jwks(bundles.own()));
        for (Map.Entry<TrustDomain, SpiffeBundle> entry : bundles.federated().entrySet()) {
            response.putBundles(entry.getKey().idString(), jwks(entry.getValue()));
        }
        return response.build();
    }

    static WITSVIDResponse witSvids(List<WorkloadIdentities.WitIdentity> identities) {
        WITSVIDResponse.Builder response = WITSVIDResponse.newBuilder();
        for (WorkloadIdentities.WitIdentity identity : identities) {
            response.addSvids(WITSVID.newBuilder()
                    .setSpiffeId(identity.spiffeId().toString())
                    .setWitSvid(identity.token())
                    .setWitSvidKey(identity.privateKeyJwk())
                    .setHint(identity.hint()));
        }
        return response.build();
    }

    static WITBundlesResponse witBundles(Bundles bundles) {
        WITBundlesResponse.Builder response = WITBundlesResponse.newBuilder();
        response.putBundles(bundles.own().trustDomain().idString(), bundles.own().witAuthoritiesJwks());
        for (Map.Entry<TrustDomain, SpiffeBundle> entry : bundles.federated().entrySet()) {
            response.putBundles(entry.getKey().idString(), entry.getValue().witAuthoritiesJwks());
        }
        return response.build();
    }

    static Optional<SpiffeBundle> bundleOf(Bundles bundles, TrustDomain domain) {
        if (bundles.own().trustDomain().equals(domain)) {
            return Optional.of(bundles.own());
        }
        return Optional.ofNullable(bundles.federated().get(domain));
    }

    private static ByteString jwks(SpiffeBundle bundle) {
        return ByteString.copyFrom(bundle.jwtAuthoritiesJwks(), StandardCharsets.UTF_8);
    }

    private static ByteString der(List<X509Certificate> certificates) {
        ByteString.Output out = ByteString.newOutput();
        try {
            for (X509Certificate certificate : certificates) {
                out.write(certificate.getEncoded());
            }
        } catch (CertificateEncodingException | java.io.IOException e) {
            throw new IllegalStateException("cannot encode certificate: " + e.getMessage(), e);
        }
        return out.toByteString();
    }
}
