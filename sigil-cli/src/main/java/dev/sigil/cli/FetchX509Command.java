package dev.sigil.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.sigil.core.crypto.Pem;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.proto.workload.X509SVID;
import dev.sigil.proto.workload.X509SVIDResponse;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sigil agent api fetch x509}: the first answer of FetchX509SVID, summarised (SPIFFE ID, hint,
 * validity, bundle trust domains). Private keys are never printed, in either output format; they leave
 * the process only through {@code --write} ({@link SvidFiles#write}), owner-only.
 */
@Command(name = "x509", description = "Fetches this process's X.509-SVIDs and bundles (FetchX509SVID, first answer).")
final class FetchX509Command extends AgentApiCommand.WorkloadApiCommand {
    @Option(names = "--write", paramLabel = "DIR",
            description = "Write svid.<n>.pem, svid.<n>.key (0600), bundle.<n>.pem and federated_bundle.<n>.<m>.pem into DIR.")
    Path write;

    FetchX509Command(CliContext context) {
        super(context);
    }

    /** One SVID of the answer, decoded; {@link #toString()} never shows the private key. */
    record Svid(X509SVID source, List<X509Certificate> chain, List<X509Certificate> bundle) {
        SpiffeId spiffeId() {
            return SpiffeId.parse(source.getSpiffeId());
        }

        X509Certificate leaf() {
            return chain.get(0);
        }

        @Override
        public String toString() {
            return "Svid[" + source.getSpiffeId() + ", notAfter=" + leaf().getNotAfter().toInstant() + ", key=<redacted>]";
        }
    }

    @Override
    int run(WorkloadApiClient client, PrintWriter out) {
        X509SVIDResponse response = client.fetchX509Svids();
        List<Svid> svids = new ArrayList<>();
        for (X509SVID svid : response.getSvidsList()) {
            List<X509Certificate> chain = certificates(svid.getX509Svid(), "x509-svid of " + svid.getSpiffeId());
            if (chain.isEmpty()) {
                throw new CliException("the workload api sent an x509-svid for " + svid.getSpiffeId() + " without certificates");
            }
            svids.add(new Svid(svid, chain, certificates(svid.getBundle(), "bundle of " + svid.getSpiffeId())));
        }
        Map<String, List<X509Certificate>> federated = new TreeMap<>();
        response.getFederatedBundlesMap().forEach((domain, der) -> federated.put(domain, certificates(der, "federated bundle " + domain)));
        List<String> written = write == null ? List.of() : SvidFiles.write(write, svids, federated);
        if (json()) {
            Output.json(out, json(svids, federated, written));
            return 0;
        }
        out.println(svids.size() == 1 ? "Received 1 svid" : "Received " + svids.size() + " svids");
        for (Svid svid : svids) {
            out.println();
            Output.field(out, "SPIFFE ID", svid.source().getSpiffeId());
            if (!svid.source().getHint().isEmpty()) {
                Output.field(out, "Hint", svid.source().getHint());
            }
            Output.field(out, "Valid from", svid.leaf().getNotBefore().toInstant().toString());
            Output.field(out, "Expires at", svid.leaf().getNotAfter().toInstant().toString());
            Output.field(out, "Chain", count(svid.chain().size(), "certificate"));
            Output.field(out, "Bundle", trustDomain(svid) + " (" + count(svid.bundle().size(), "authority") + ")");
        }
        if (!federated.isEmpty()) {
            out.println();
            federated.forEach((domain, roots) -> Output.field(out, "Federated bundle", domain + " (" + count(roots.size(), "authority") + ")"));
        }
        if (write != null) {
            out.println();
            out.println("wrote " + String.join(", ", written) + " to " + write.toAbsolutePath());
        }
        return 0;
    }

    private static ObjectNode json(List<Svid> svids, Map<String, List<X509Certificate>> federated, List<String> written) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ArrayNode list = root.putArray("svids");
        for (Svid svid : svids) {
            ObjectNode node = list.addObject();
            node.put("spiffe_id", svid.source().getSpiffeId());
            node.put("hint", svid.source().getHint());
            node.put("not_before", svid.leaf().getNotBefore().toInstant().toString());
            node.put("expires_at", svid.leaf().getNotAfter().toInstant().toString());
            node.put("x509_svid_pem", Pem.encodeCertificates(svid.chain()));
            node.put("bundle_trust_domain", trustDomain(svid));
            node.put("bundle_pem", Pem.encodeCertificates(svid.bundle()));
        }
        ObjectNode federatedNode = root.putObject("federated_bundles");
        federated.forEach((domain, roots) -> federatedNode.put(domain, Pem.encodeCertificates(roots)));
        if (!written.isEmpty()) {
            ArrayNode files = root.putArray("written");
            written.forEach(files::add);
        }
        return root;
    }

    private static String trustDomain(Svid svid) {
        try {
            return svid.spiffeId().trustDomain().name();
        } catch (RuntimeException e) {
            throw new CliException("the workload api sent an x509-svid with spiffe id '" + svid.source().getSpiffeId()
                    + "' that is not valid: " + e.getMessage(), 1, e);
        }
    }

    private static String count(int n, String noun) {
        return n + " " + (n == 1 ? noun : noun.endsWith("y") ? noun.substring(0, noun.length() - 1) + "ies" : noun + "s");
    }

    /** Concatenated DER certificates, as the Workload API sends chains and bundles. */
    static List<X509Certificate> certificates(ByteString der, String what) {
        if (der.isEmpty()) {
            return List.of();
        }
        try {
            return CertificateFactory.getInstance("X.509").generateCertificates(der.newInput()).stream()
                    .map(X509Certificate.class::cast).toList();
        } catch (CertificateException e) {
            throw new CliException("the workload api sent a " + what + " that is not der certificates: " + e.getMessage(), 1, e);
        }
    }
}
