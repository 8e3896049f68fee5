package dev.sigil.agent.workload;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Value;
import dev.sigil.agent.workload.WorkloadIdentities.Bundles;
import dev.sigil.agent.workload.WorkloadIdentities.X509Identity;
import dev.sigil.core.Printable;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.crypto.Pem;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.type.v3.SemanticVersion;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The secrets Envoy's Secret Discovery Service serves one caller, named as SPIRE's agent names them
 * (pkg/agent/endpoints/sdsv3), so that an Envoy or Istio configuration written for SPIRE works unchanged:
 *
 * <ul>
 *   <li>the caller's SPIFFE ID: a {@code tls_certificate} with that X.509-SVID and its private key, only if
 *       the caller holds that identity;</li>
 *   <li>{@value #DEFAULT_SVID}: the caller's first X.509-SVID, as a {@code tls_certificate} named {@code default};</li>
 *   <li>{@value #OWN_BUNDLE}: this trust domain's bundle as a validation context;</li>
 *   <li>{@value #ALL_BUNDLES}: this trust domain's bundle plus the federated bundles of the caller's entries,
 *       in one SPIFFE certificate validator configuration;</li>
 *   <li>a trust domain as {@code spiffe://example.org}: that trust domain's bundle, for this trust domain and
 *       the federated trust domains of the caller's entries;</li>
 *   <li>no name at all: every bundle the previous item allows plus every X.509-SVID of the caller, each
 *       under its SPIFFE ID (not {@code default}, {@code ROOTCA} or {@code ALL}).</li>
 * </ul>
 *
 * <p>Validation contexts carry Envoy's SPIFFE certificate validator ({@value #SPIFFE_VALIDATOR}, one trust
 * domain per bundle, so a peer is checked against its own trust domain's authorities), unless the
 * request's node metadata sets {@value #DISABLE_SPIFFE_VALIDATION} to true or the node is an Envoy older
 * than 1.18: then a plain {@code trusted_ca} (and {@code ALL}, which needs the validator, is refused).
 *
 * <p>Security property: a secret holding a private key is built only from the caller's own identities;
 * any name the caller is not entitled to makes the whole request fail with INVALID_ARGUMENT (as SPIRE
 * does), so nothing is served for it and the refusal names the names, clipped, never a key.
 */
final class SdsSecrets {
    static final String SECRET_TYPE_URL = "type.googleapis.com/" + Secret.getDescriptor().getFullName();
    static final String DEFAULT_SVID = "default";
    static final String OWN_BUNDLE = "ROOTCA";
    static final String ALL_BUNDLES = "ALL";
    static final String SPIFFE_VALIDATOR = "envoy.tls.cert_validator.spiffe";
    static final String DISABLE_SPIFFE_VALIDATION = "disable_spiffe_cert_validation";

    private SdsSecrets() {}

    /** What a request resolves to. */
    sealed interface Resolution permits Resolved, Refused {}

    /** The secrets to send, and the identities whose private keys are among them. */
    record Resolved(List<Any> resources, List<SpiffeId> served) implements Resolution {
        Resolved {
            resources = List.copyOf(resources);
            served = List.copyOf(served);
        }
    }

    /** The request cannot be answered; end the call with this status. */
    record Refused(Status status) implements Resolution {}

    /**
     * True when {@code request} names only bundles ({@value #OWN_BUNDLE}, {@value #ALL_BUNDLES}, trust domains):
     * public trust anchors, served to any attested caller as the Workload API serves them, registered or not.
     * A request naming nothing asks for the caller's SVIDs too.
     */
    static boolean onlyBundles(DiscoveryRequest request) {
        boolean any = false;
        for (String name : request.getResourceNamesList()) {
            if (name.isEmpty()) {
                continue;
            }
            any = true;
            boolean trustDomain = name.startsWith("spiffe://") && name.indexOf('/', "spiffe://".length()) < 0;
            if (!trustDomain && !OWN_BUNDLE.equals(name) && !ALL_BUNDLES.equals(name)) {
                return false;
            }
        }
        return any;
    }

    /** Resolves {@code request} for a caller holding {@code svids} (possibly none: then only bundles resolve). */
    static Resolution resolve(DiscoveryRequest request, List<X509Identity> svids, Bundles bundles) {
        if (!request.getTypeUrl().isEmpty() && !SECRET_TYPE_URL.equals(request.getTypeUrl())) {
            return new Refused(Status.INVALID_ARGUMENT.withDescription("type_url '" + Printable.clip(request.getTypeUrl(), 120)
                    + "' is not served by secret discovery; it must be '" + SECRET_TYPE_URL + "' or empty"));
        }
        Set<String> names = new LinkedHashSet<>();
        for (String name : request.getResourceNamesList()) {
            if (!name.isEmpty()) {
                names.add(name);
            }
        }
        boolean everything = names.isEmpty();
        Map<TrustDomain, SpiffeBundle> trusted = trustedBundles(svids, bundles);
        boolean spiffeValidator = spiffeValidator(request.getNode());
        List<Any> resources = new ArrayList<>();
        List<SpiffeId> served = new ArrayList<>();

        for (Map.Entry<TrustDomain, SpiffeBundle> entry : trusted.entrySet()) {
            String name = entry.getKey().idString();
            if (everything || names.remove(name)) {
                resources.add(validationContext(name, List.of(entry.getValue()), spiffeValidator));
            }
        }
        if (names.remove(OWN_BUNDLE)) {
            resources.add(validationContext(OWN_BUNDLE, List.of(bundles.own()), spiffeValidator));
        }
        if (names.remove(ALL_BUNDLES)) {
            if (!spiffeValidator) {
                return new Refused(Status.INVALID_ARGUMENT.withDescription("secret '" + ALL_BUNDLES + "' needs envoy's spiffe certificate"
                        + " validator (envoy 1.18 or newer, node metadata " + DISABLE_SPIFFE_VALIDATION + " not true); ask for '"
                        + OWN_BUNDLE + "' or a trust domain such as '" + bundles.own().trustDomain().idString() + "' instead"));
            }
            resources.add(validationContext(ALL_BUNDLES, List.copyOf(trusted.values()), true));
        }
        for (X509Identity svid : svids) {
            if (everything || names.remove(svid.spiffeId().toString())) {
                resources.add(tlsCertificate(svid.spiffeId().toString(), svid));
                served.add(svid.spiffeId());
            }
        }
        if (!svids.isEmpty() && names.remove(DEFAULT_SVID)) {
            X509Identity first = svids.getFirst();
            resources.add(tlsCertificate(DEFAULT_SVID, first));
            if (!served.contains(first.spiffeId())) {
                served.add(first.spiffeId());
            }
        }
        if (!names.isEmpty()) {
            return new Refused(Status.INVALID_ARGUMENT.withDescription("workload is not authorized for the requested secrets "
                    + Printable.clip(names.stream().sorted().map(n -> "'" + n + "'").toList().toString())
                    + "; it may ask for its own spiffe ids, '" + DEFAULT_SVID + "', '" + OWN_BUNDLE + "', '" + ALL_BUNDLES
                    + "' and trust domains such as '" + bundles.own().trustDomain().idString() + "'"));
        }
        return new Resolved(resources, served);
    }

    /** This trust domain's bundle, then the federated bundles the caller's entries federate with, by name. */
    private static Map<TrustDomain, SpiffeBundle> trustedBundles(List<X509Identity> svids, Bundles bundles) {
        Map<TrustDomain, SpiffeBundle> federated = new TreeMap<>(Comparator.comparing(TrustDomain::idString));
        for (X509Identity svid : svids) {
            for (TrustDomain domain : svid.federatesWith()) {
                SpiffeBundle bundle = bundles.federated().get(domain);
                if (bundle != null && !domain.equals(bundles.own().trustDomain())) {
                    federated.put(domain, bundle);
                }
            }
        }
        Map<TrustDomain, SpiffeBundle> trusted = new java.util.LinkedHashMap<>();
        trusted.put(bundles.own().trustDomain(), bundles.own());
        trusted.putAll(federated);
        return trusted;
    }

    /**
     * As SPIRE decides: the SPIFFE validator unless the node's metadata turns it off, or the node reports an
     * Envoy build older than 1.18 (which has no such validator). A node that says nothing gets the validator.
     */
    static boolean spiffeValidator(Node node) {
        Value disabled = node.getMetadata().getFieldsMap().get(DISABLE_SPIFFE_VALIDATION);
        if (disabled != null && switch (disabled.getKindCase()) {
            case BOOL_VALUE -> disabled.getBoolValue();
            // the values Go's strconv.ParseBool reads as true; any other value leaves the default
            case STRING_VALUE -> Set.of("1", "t", "T", "true", "TRUE", "True").contains(disabled.getStringValue());
            default -> false;
        }) {
            return false;
        }
        if (node.hasUserAgentBuildVersion() && node.getUserAgentBuildVersion().hasVersion()) {
            SemanticVersion version = node.getUserAgentBuildVersion().getVersion();
            return version.getMajorNumber() > 1 || (version.getMajorNumber() == 1 && version.getMinorNumber() > 17);
        }
        return true;
    }

    private static Any validationContext(String name, List<SpiffeBundle> bundles, boolean spiffeValidator) {
        CertificateValidationContext.Builder context = CertificateValidationContext.newBuilder();
        if (spiffeValidator) {
            SPIFFECertValidatorConfig.Builder validator = SPIFFECertValidatorConfig.newBuilder();
            for (SpiffeBundle bundle : bundles) {
                validator.addTrustDomains(SPIFFECertValidatorConfig.TrustDomain.newBuilder()
                        .setName(bundle.trustDomain().name())
                        .setTrustBundle(inline(Pem.encodeCertificates(bundle.x509Authorities()))));
            }
            context.setCustomValidatorConfig(TypedExtensionConfig.newBuilder().setName(SPIFFE_VALIDATOR).setTypedConfig(Any.pack(validator.build())));
        } else {
            context.setTrustedCa(inline(Pem.encodeCertificates(bundles.getFirst().x509Authorities())));
        }
        return Any.pack(Secret.newBuilder().setName(name).setValidationContext(context).build());
    }

    private static Any tlsCertificate(String name, X509Identity svid) {
        return Any.pack(Secret.newBuilder()
                .setName(name)
                .setTlsCertificate(TlsCertificate.newBuilder()
                        .setCertificateChain(inline(Pem.encodeCertificates(svid.chain())))
                        .setPrivateKey(DataSource.newBuilder().setInlineBytes(exportPrivateKeyPem(svid))))
                .build());
    }

    /**
     * The one place SDS exports an SVID's private key: PKCS#8 PEM, for the caller that holds the identity.
     * The bytes go into the response only; they are never logged (a Secret is never logged either).
     */
    private static ByteString exportPrivateKeyPem(X509Identity svid) {
        String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(svid.privateKeyPkcs8());
        return ByteString.copyFrom("-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n", StandardCharsets.US_ASCII);
    }

    private static DataSource inline(String pem) {
        return DataSource.newBuilder().setInlineBytes(ByteString.copyFrom(pem, StandardCharsets.US_ASCII)).build();
    }
}
