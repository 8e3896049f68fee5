package dev.sigil.server.agent.attestor.tpm;

import dev.sigil.core.crypto.Pem;
import dev.sigil.core.plugin.NamedPlugin;
import dev.sigil.server.agent.attestor.NodeAttestor;
import dev.sigil.server.agent.attestor.NodeAttestorPlugin;
import dev.sigil.server.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/** The {@code tpm} node attestor plugin: TPM 2.0 nodes (EK certificate, credential activation, quotes against PCR policies). */
public final class TpmAttestorPlugin extends NamedPlugin<TpmAttestorPlugin.Settings>
        implements NodeAttestorPlugin<TpmAttestorPlugin.Settings> {
    public static final String TYPE = TpmAttestor.TYPE;
    static final List<Integer> DEFAULT_PCRS = List.of(0, 1, 2, 3, 4, 5, 6, 7);
    static final Duration DEFAULT_QUOTE_INTERVAL = Duration.ofSeconds(10);
    private static final Duration MIN_QUOTE_INTERVAL = Duration.ofSeconds(1);
    private static final Duration MAX_QUOTE_INTERVAL = Duration.ofHours(1);
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern POLICY_NAME = Pattern.compile("[a-z0-9_.-]{1,64}");

    /**
     * {@code node_attestors.tpm}.
     *
     * @param ekCaBundleFile PEM manufacturer CA certificates EK certificates must chain to
     * @param ekAllowList    SHA-256 (hex) of EK public keys (DER SubjectPublicKeyInfo) trusted without a certificate
     * @param pcrSelection   SHA-256 bank PCRs every quote must cover (default 0-7)
     * @param pcrPolicies    named golden sets; a node must meet at least one (none: any values)
     * @param quoteInterval  how often agents quote (default 10s); trust level 0 after twice this without a quote
     */
    public record Settings(Path ekCaBundleFile, List<String> ekAllowList, List<Integer> pcrSelection, List<Policy> pcrPolicies,
                           Duration quoteInterval) {
        public Settings {
            ekCaBundleFile = ekCaBundleFile == null ? null : ekCaBundleFile.toAbsolutePath().normalize();
            List<String> allowed = new ArrayList<>();
            for (String hash : ekAllowList == null ? List.<String>of() : ekAllowList) {
                String normalized = hash == null ? "" : hash.toLowerCase(Locale.ROOT);
                if (!SHA256_HEX.matcher(normalized).matches()) {
                    throw new ConfigException("node_attestors.tpm.ek_allow_list holds '" + dev.sigil.core.Printable.clip(String.valueOf(hash))
                            + "'; each entry is the sha-256 of an ek public key, 64 hex digits");
                }
                allowed.add(normalized);
            }
            ekAllowList = List.copyOf(allowed);
            if (ekCaBundleFile == null && ekAllowList.isEmpty()) {
                throw new ConfigException("node_attestors.tpm needs ek_ca_bundle_file (pem manufacturer ca certificates) "
                        + "or ek_allow_list (sha-256 of ek public keys), or both");
            }
            pcrSelection = List.copyOf(new TreeSet<>(pcrSelection == null || pcrSelection.isEmpty() ? DEFAULT_PCRS : pcrSelection));
            for (int pcr : pcrSelection) {
                if (pcr < 0 || pcr > 23) {
                    throw new ConfigException("node_attestors.tpm.pcr_selection holds pcr " + pcr + "; pcrs are 0 to 23");
                }
            }
            pcrPolicies = pcrPolicies == null ? List.of() : List.copyOf(pcrPolicies);
            Set<String> names = new HashSet<>();
            for (Policy policy : pcrPolicies) {
                if (!names.add(policy.name())) {
                    throw new ConfigException("node_attestors.tpm.pcr_policies names '" + policy.name() + "' twice; names must be unique");
                }
                for (int pcr : policy.pcrs().keySet()) {
                    if (!pcrSelection.contains(pcr)) {
                        throw new ConfigException("node_attestors.tpm.pcr_policies '" + policy.name() + "' constrains pcr " + pcr
                                + ", which pcr_selection " + pcrSelection + " does not quote; add it to pcr_selection");
                    }
                }
            }
            quoteInterval = quoteInterval == null ? DEFAULT_QUOTE_INTERVAL : quoteInterval;
            if (quoteInterval.compareTo(MIN_QUOTE_INTERVAL) < 0 || quoteInterval.compareTo(MAX_QUOTE_INTERVAL) > 0) {
                throw new ConfigException("node_attestors.tpm.quote_interval is " + dev.sigil.core.time.Durations.format(quoteInterval)
                        + "; it must be 1s to 1h");
            }
        }
    }

    /**
     * One golden set of {@code pcr_policies}.
     *
     * @param name selector {@code tpm:policy:<name>} for nodes that meet it
     * @param pcrs PCR index → allowed SHA-256 values (hex)
     */
    public record Policy(String name, Map<Integer, List<String>> pcrs) {
        public Policy {
            if (name == null || !POLICY_NAME.matcher(name).matches()) {
                throw new ConfigException("node_attestors.tpm.pcr_policies: name '" + dev.sigil.core.Printable.clip(String.valueOf(name))
                        + "' is invalid; use 1 to 64 of a-z, 0-9, '.', '_' and '-'");
            }
            if (pcrs == null || pcrs.isEmpty()) {
                throw new ConfigException("node_attestors.tpm.pcr_policies '" + name + "' has no pcrs; give pcr index: [allowed sha-256 values]");
            }
            Map<Integer, List<String>> normalized = new TreeMap<>();
            pcrs.forEach((pcr, values) -> {
                if (values == null || values.isEmpty()) {
                    throw new ConfigException("node_attestors.tpm.pcr_policies '" + name + "' pcr " + pcr + " allows no value");
                }
                List<String> lower = new ArrayList<>();
                for (String value : values) {
                    String hex = value == null ? "" : value.toLowerCase(Locale.ROOT);
                    if (!SHA256_HEX.matcher(hex).matches()) {
                        throw new ConfigException("node_attestors.tpm.pcr_policies '" + name + "' pcr " + pcr + " allows '"
                                + dev.sigil.core.Printable.clip(String.valueOf(value)) + "'; values are sha-256 digests, 64 hex digits");
                    }
                    lower.add(hex);
                }
                normalized.put(pcr, List.copyOf(lower));
            });
            pcrs = java.util.Collections.unmodifiableMap(normalized);
        }
    }

    public TpmAttestorPlugin() {
        super(TYPE, Settings.class);
    }

    @Override
    public NodeAttestor create(Settings settings, Context context) {
        TpmAttestor attestor = new TpmAttestor(context.trustDomain(), trust(settings), context.clock(), new SecureRandom());
        context.continuous().add(attestor);
        return attestor;
    }

    /** The attestor for {@code settings} with a chosen random source (benches that replay one quote need a fixed nonce). */
    public static TpmAttestor attestor(Settings settings, dev.sigil.core.spiffeid.TrustDomain trustDomain, java.time.Clock clock,
                                       SecureRandom random) {
        return new TpmAttestor(trustDomain, trust(settings), clock, random);
    }

    static TpmAttestor.Trust trust(Settings settings) {
        List<X509Certificate> cas = List.of();
        if (settings.ekCaBundleFile() != null) {
            try {
                cas = Pem.parseCertificates(Files.readString(settings.ekCaBundleFile(), StandardCharsets.US_ASCII),
                        "tpm ek ca bundle " + settings.ekCaBundleFile());
            } catch (IOException e) {
                throw new ConfigException("cannot read node_attestors.tpm.ek_ca_bundle_file " + settings.ekCaBundleFile() + ": "
                        + e.getMessage());
            }
        }
        List<PcrPolicy> policies = new ArrayList<>();
        for (Policy policy : settings.pcrPolicies()) {
            TreeMap<Integer, Set<String>> allowed = new TreeMap<>();
            policy.pcrs().forEach((pcr, values) -> allowed.put(pcr, Set.copyOf(values)));
            policies.add(new PcrPolicy(policy.name(), allowed));
        }
        return new TpmAttestor.Trust(cas, Set.copyOf(settings.ekAllowList()), new TreeSet<>(settings.pcrSelection()), policies,
                settings.quoteInterval());
    }
}
