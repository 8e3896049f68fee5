package dev.sigil.server.agent.attestor.jwt;

import dev.sigil.core.Printable;
import dev.sigil.core.plugin.NamedPlugin;
import dev.sigil.core.time.Durations;
import dev.sigil.server.agent.attestor.NodeAttestor;
import dev.sigil.server.agent.attestor.NodeAttestorPlugin;
import dev.sigil.server.config.ConfigException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code jwt} node attestor plugin: nodes join with a platform-issued JWT (a Kubernetes projected
 * service account token, a GitHub Actions or GitLab CI OIDC token) signed by one of the configured issuers.
 */
public final class JwtAttestorPlugin extends NamedPlugin<JwtAttestorPlugin.Settings>
        implements NodeAttestorPlugin<JwtAttestorPlugin.Settings> {
    public static final String TYPE = JwtAttestor.TYPE;
    static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(30);
    static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(5);
    static final int MAX_ISSUERS = 32;
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern SELECTOR_NAME = Pattern.compile("[a-z0-9_-]+(:[a-z0-9_-]+)*");
    /** Selector names the attestor itself gives every token; no claim mapping may produce them. */
    private static final Set<String> RESERVED = Set.of("issuer", "sub");

    /** {@code node_attestors.jwt}: the trusted issuers, at least one. */
    public record Settings(List<Issuer> issuers) {
        public Settings {
            if (issuers == null || issuers.isEmpty()) {
                throw new ConfigException("node_attestors.jwt needs issuers: a list of at least one issuer "
                        + "(issuer, audience, and preset or claims)");
            }
            if (issuers.size() > MAX_ISSUERS) {
                throw new ConfigException("node_attestors.jwt.issuers has " + issuers.size() + " issuers; at most " + MAX_ISSUERS
                        + " are allowed");
            }
            issuers = List.copyOf(issuers);
            Set<String> seen = new HashSet<>();
            Set<String> names = new HashSet<>();
            for (Issuer issuer : issuers) {
                if (!seen.add(issuer.issuer())) {
                    throw new ConfigException("node_attestors.jwt.issuers names issuer '" + issuer.issuer()
                            + "' twice; each issuer may be configured once");
                }
                if (!names.add(issuer.agentIdName())) {
                    throw new ConfigException("node_attestors.jwt.issuers: two issuers would name their agents under /sigil/agent/jwt/"
                            + issuer.agentIdName() + "/; give one of them another name (or cluster)");
                }
            }
        }
    }

    /**
     * One trusted issuer.
     *
     * @param issuer       exactly the tokens' {@code iss}; an https URL unless {@code jwks} is set
     * @param name         the agent ID segment for this issuer (default: the issuer URL's host); not used by k8s_psat
     * @param audience     required: tokens' {@code aud} must contain it
     * @param jwks         a JWKS file with the issuer's public keys; when absent the keys are found by OIDC discovery
     * @param caBundleFile PEM CA certificates for the issuer's HTTPS endpoints (default: the JDK's trusted roots)
     * @param clockSkew    tolerance for exp, nbf and iat (default 30s, at most 5m)
     * @param preset       k8s_psat, github_actions or gitlab_ci
     * @param cluster      the Kubernetes cluster name, required with k8s_psat
     * @param claims       claim path → selector name; each such claim is required
     */
    public record Issuer(String issuer, String name, String audience, Path jwks, Path caBundleFile, Duration clockSkew, String preset,
                         String cluster, Map<String, String> claims) {
        public Issuer {
            if (issuer == null || issuer.isBlank()) {
                throw new ConfigException("node_attestors.jwt.issuers: an issuer has no issuer; set it to the tokens' iss exactly");
            }
            String where = "node_attestors.jwt issuer '" + Printable.clip(issuer) + "'";
            if (issuer.length() > 512) {
                throw new ConfigException(where + " is " + issuer.length() + " characters long; at most 512 are allowed");
            }
            if (jwks == null && !isHttpsUrl(issuer)) {
                throw new ConfigException(where + " is not an https url, so its keys cannot be discovered; set jwks to a jwks file "
                        + "or use the issuer's https url");
            }
            if (audience == null || audience.isBlank()) {
                throw new ConfigException(where + " needs audience: the value tokens for sigil carry in aud");
            }
            if (clockSkew != null && (clockSkew.isNegative() || clockSkew.compareTo(MAX_CLOCK_SKEW) > 0)) {
                throw new ConfigException(where + ": clock_skew is " + Durations.format(clockSkew) + "; use 0s to "
                        + Durations.format(MAX_CLOCK_SKEW));
            }
            if (preset != null && Preset.named(preset).isEmpty()) {
                throw new ConfigException(where + ": preset '" + Printable.clip(preset) + "' is not known; use one of "
                        + String.join(", ", Preset.names()));
            }
            boolean k8s = "k8s_psat".equals(preset);
            if (k8s && (cluster == null || !SEGMENT.matcher(cluster).matches())) {
                throw new ConfigException(where + ": preset k8s_psat needs cluster, the cluster's name (1 to 64 of A-Z, a-z, 0-9, "
                        + "'.', '_', '-'); got " + (cluster == null ? "none" : "'" + Printable.clip(cluster) + "'"));
            }
            if (!k8s && cluster != null) {
                throw new ConfigException(where + ": cluster is only for preset k8s_psat");
            }
            if (name != null && !SEGMENT.matcher(name).matches()) {
                throw new ConfigException(where + ": name '" + Printable.clip(name) + "' must be 1 to 64 of A-Z, a-z, 0-9, '.', '_', '-'");
            }
            if (name == null && !k8s && !isHttpsUrl(issuer)) {
                throw new ConfigException(where + " is not a url; set name, the segment its agents' ids are named under");
            }
            if (jwks != null && caBundleFile != null) {
                throw new ConfigException(where + ": ca_bundle_file is only used for discovery; remove it or jwks");
            }
            jwks = jwks == null ? null : jwks.toAbsolutePath().normalize();
            caBundleFile = caBundleFile == null ? null : caBundleFile.toAbsolutePath().normalize();
            claims = claims == null ? Map.of() : Map.copyOf(new LinkedHashMap<>(claims));
            for (Map.Entry<String, String> claim : claims.entrySet()) {
                checkClaim(where, claim.getKey(), claim.getValue(), Preset.named(preset));
            }
        }

        /** The agent ID segment(s) after {@code /sigil/agent/jwt/}. */
        String agentIdName() {
            if ("k8s_psat".equals(preset)) {
                return "k8s_psat/" + cluster;
            }
            if (name != null) {
                return name;
            }
            String host = URI.create(issuer).getHost();
            return SEGMENT.matcher(host).matches() ? host : "issuer-" + Integer.toHexString(issuer.hashCode());
        }

        Duration skew() {
            return clockSkew == null ? DEFAULT_CLOCK_SKEW : clockSkew;
        }
    }

    private static void checkClaim(String where, String path, String selector, Optional<Preset> preset) {
        if (path == null || path.isBlank() || path.length() > 256 || path.startsWith(".") || path.endsWith(".")) {
            throw new ConfigException(where + ": claim path '" + Printable.clip(path) + "' must be 1 to 256 characters of claim names "
                    + "joined by '.'");
        }
        if (selector == null || selector.length() > 128 || !SELECTOR_NAME.matcher(selector).matches()) {
            throw new ConfigException(where + ": selector name '" + Printable.clip(selector) + "' for claim '" + Printable.clip(path)
                    + "' must be words of a-z, 0-9, '_', '-' joined by ':', for example 'gitlab:namespace_path'");
        }
        String first = selector.split(":", 2)[0];
        if (RESERVED.contains(first)) {
            throw new ConfigException(where + ": selector name '" + selector + "' is reserved; every token already gives jwt:issuer "
                    + "and jwt:sub");
        }
        for (Preset other : Preset.values()) {
            if (other.selectorPrefix().equals(first) && preset.filter(other::equals).isEmpty()) {
                throw new ConfigException(where + ": selector name '" + selector + "' belongs to preset " + other.configName()
                        + " (so that another issuer cannot forge its selectors); set that preset or choose another name");
            }
        }
    }

    static boolean isHttpsUrl(String text) {
        try {
            URI uri = URI.create(text);
            return "https".equals(uri.getScheme()) && uri.getHost() != null && uri.getRawQuery() == null && uri.getRawFragment() == null;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    public JwtAttestorPlugin() {
        super(TYPE, Settings.class);
    }

    @Override
    public NodeAttestor create(Settings settings, Context context) {
        List<TrustedIssuer> issuers = new ArrayList<>();
        for (Issuer issuer : settings.issuers()) {
            IssuerKeys keys;
            try {
                keys = issuer.jwks() != null ? IssuerKeys.fromFile(issuer.jwks())
                        : IssuerKeys.discovered(issuer.issuer(), HttpsFetcher.create(Optional.ofNullable(issuer.caBundleFile())), context.clock());
            } catch (IllegalArgumentException e) {
                throw new ConfigException("node_attestors.jwt issuer '" + Printable.clip(issuer.issuer()) + "': " + e.getMessage(), e);
            }
            Optional<Preset> preset = Optional.ofNullable(issuer.preset()).flatMap(Preset::named);
            List<ClaimMapping> mappings = new ArrayList<>(preset.map(Preset::mappings).orElse(List.of()));
            issuer.claims().forEach((path, selector) -> mappings.add(new ClaimMapping(path, selector, true)));
            issuers.add(new TrustedIssuer(issuer.issuer(), issuer.audience(), issuer.skew(), preset, Optional.ofNullable(issuer.cluster()),
                    mappings, issuer.agentIdName(), keys));
        }
        return new JwtAttestor(context.trustDomain(), issuers, context.singleUse(), context.clock());
    }
}
