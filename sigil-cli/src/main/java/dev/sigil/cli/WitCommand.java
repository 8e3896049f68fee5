package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.client.WimseVerifier;
import dev.sigil.client.WorkloadProofs;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.proto.workload.WITSVID;
import dev.sigil.proto.workload.WITSVIDResponse;
import dev.sigil.server.admin.ApiJson;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.util.Date;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * WIMSE workload identity from the command line: {@code sigil agent api fetch wit} (FetchWITSVID, FetchWITBundles)
 * and {@code sigil agent api wpt}, which makes the two request headers a service that verifies WIMSE tokens
 * expects. A WIT-SVID's private key is never printed; it leaves the process only through {@code --write},
 * owner-only.
 */
final class WitCommand {
    static final String WIT_FILE = "wit.jwt";
    static final String KEY_FILE = "wit.key.jwk";
    private static final String OWNER_ONLY = "rw-------";

    private WitCommand() {
    }

    @Command(name = "wit", description = "Fetches this process's WIT-SVIDs (FetchWITSVID, first answer); prints SPIFFE ID, kid and expiry.")
    static final class Fetch extends AgentApiCommand.WorkloadApiCommand {
        @Option(names = "--spiffe-id", paramLabel = "ID", converter = Converters.SpiffeIdConverter.class,
                description = "Only the WIT-SVID of this SPIFFE ID (default: every identity of this process).")
        SpiffeId spiffeId;

        @Option(names = "--write", paramLabel = "DIR",
                description = "Write " + WIT_FILE + " and " + KEY_FILE + " (the private key), both 0600, into DIR; needs exactly one WIT-SVID.")
        Path write;

        @Option(names = "--bundles", description = "Also fetch and print the WIT bundles (FetchWITBundles).")
        boolean bundles;

        Fetch(CliContext context) {
            super(context);
        }

        @Override
        int run(WorkloadApiClient client, PrintWriter out) {
            WITSVIDResponse response = client.fetchWitSvids(Optional.ofNullable(spiffeId).map(SpiffeId::toString));
            Map<String, JsonNode> jwks = bundles ? jwks(client.fetchWitBundles().getBundlesMap()) : Map.of();
            if (write != null) {
                if (response.getSvidsCount() != 1) {
                    throw new CliException("this process has " + response.getSvidsCount() + " wit-svids; --write needs exactly one"
                            + " (choose it with --spiffe-id)", 2, null);
                }
                WITSVID svid = response.getSvids(0);
                try {
                    Files.createDirectories(write);
                    AtomicFiles.replace(write.resolve(WIT_FILE), svid.getWitSvid() + "\n", OWNER_ONLY);
                    AtomicFiles.replace(write.resolve(KEY_FILE), svid.getWitSvidKey() + "\n", OWNER_ONLY);
                } catch (IOException e) {
                    throw new CliException("cannot write the wit-svid files to " + write.toAbsolutePath() + ": " + e.getMessage(), 1, e);
                }
            }
            if (json()) {
                ObjectNode root = JsonNodeFactory.instance.objectNode();
                ArrayNode list = root.putArray("svids");
                for (WITSVID svid : response.getSvidsList()) {
                    Summary summary = Summary.of(svid);
                    list.addObject().put("spiffe_id", svid.getSpiffeId()).put("hint", svid.getHint()).put("kid", summary.keyId())
                            .put("expires_at", summary.expiresAt()).put("token", svid.getWitSvid());
                }
                if (bundles) {
                    ObjectNode bundleNode = root.putObject("bundles");
                    jwks.forEach(bundleNode::set);
                }
                Output.json(out, root);
                return 0;
            }
            for (WITSVID svid : response.getSvidsList()) {
                Summary summary = Summary.of(svid);
                Output.field(out, "SPIFFE ID", svid.getSpiffeId());
                if (!svid.getHint().isEmpty()) {
                    Output.field(out, "Hint", svid.getHint());
                }
                Output.field(out, "Key ID", summary.keyId());
                Output.field(out, "Expires at", summary.expiresAt());
                out.println();
            }
            for (Map.Entry<String, JsonNode> bundle : jwks.entrySet()) {
                out.println("WIT bundle of " + bundle.getKey() + ":");
                Output.json(out, bundle.getValue());
            }
            if (write != null) {
                out.println("wrote " + WIT_FILE + ", " + KEY_FILE + " to " + write.toAbsolutePath());
            }
            return 0;
        }

        private static Map<String, JsonNode> jwks(Map<String, String> bundles) {
            ObjectMapper mapper = ApiJson.newMapper();
            Map<String, JsonNode> result = new TreeMap<>();
            for (Map.Entry<String, String> bundle : bundles.entrySet()) {
                try {
                    result.put(bundle.getKey(), mapper.readTree(bundle.getValue()));
                } catch (IOException e) {
                    throw new CliException("the workload api sent a wit bundle for '" + bundle.getKey() + "' that is not json: "
                            + e.getMessage(), 1, e);
                }
            }
            return result;
        }
    }

    /** What is printed of a WIT-SVID: its key id and expiry (read, not verified: it came from the local agent). */
    private record Summary(String keyId, String expiresAt) {
        static Summary of(WITSVID svid) {
            try {
                SignedJWT jwt = SignedJWT.parse(svid.getWitSvid());
                Date exp = jwt.getJWTClaimsSet().getExpirationTime();
                return new Summary(String.valueOf(jwt.getHeader().getKeyID()), exp == null ? "-" : exp.toInstant().toString());
            } catch (ParseException e) {
                throw new CliException("the workload api sent a wit-svid for " + svid.getSpiffeId() + " that is not a signed jwt", 1, e);
            }
        }
    }

    @Command(name = "wpt", description = "Makes a workload proof token for one request to --audience with this process's WIT-SVID;"
            + " prints the Workload-Identity-Token and Workload-Proof-Token header lines.")
    static final class Proof extends AgentApiCommand.WorkloadApiCommand {
        @Option(names = "--audience", required = true, paramLabel = "URI", description = "The URI of the service called (the proof's aud).")
        String audience;

        @Option(names = "--spiffe-id", paramLabel = "ID", converter = Converters.SpiffeIdConverter.class,
                description = "The WIT-SVID of this SPIFFE ID (needed when this process has several).")
        SpiffeId spiffeId;

        @Option(names = "--from", paramLabel = "DIR",
                description = "Use " + WIT_FILE + " and " + KEY_FILE + " written by 'fetch wit --write' instead of asking the agent.")
        Path from;

        @Option(names = "--access-token-file", paramLabel = "FILE", description = "An access token sent with the request: bound with ath.")
        Path accessTokenFile;

        @Option(names = "--txn-token-file", paramLabel = "FILE", description = "A transaction token sent with the request: bound with tth.")
        Path txnTokenFile;

        @Option(names = "--lifetime", paramLabel = "DURATION", defaultValue = "60s", converter = Converters.DurationConverter.class,
                description = "How long the proof is valid (default: ${DEFAULT-VALUE}).")
        Duration lifetime = WorkloadProofs.DEFAULT_LIFETIME;

        Proof(CliContext context) {
            super(context);
        }

        @Override
        int run(WorkloadApiClient client, PrintWriter out) {
            String wit;
            String key;
            if (from != null) {
                wit = read(from.resolve(WIT_FILE), "wit-svid");
                key = read(from.resolve(KEY_FILE), "wit-svid key");
            } else {
                WITSVIDResponse response = client.fetchWitSvids(Optional.ofNullable(spiffeId).map(SpiffeId::toString));
                if (response.getSvidsCount() != 1) {
                    throw new CliException("this process has " + response.getSvidsCount() + " wit-svids; choose one with --spiffe-id", 2, null);
                }
                wit = response.getSvids(0).getWitSvid();
                key = response.getSvids(0).getWitSvidKey();
            }
            String proof;
            try {
                proof = WorkloadProofs.create(wit, key, audience, lifetime, optional(accessTokenFile, "access token"),
                        optional(txnTokenFile, "transaction token"), Clock.systemUTC());
            } catch (IllegalArgumentException e) {
                throw new CliException("cannot make a workload proof token: " + e.getMessage(), 2, e);
            }
            if (json()) {
                ObjectNode root = JsonNodeFactory.instance.objectNode();
                root.put(WimseVerifier.WIT_HEADER, wit).put(WimseVerifier.WPT_HEADER, proof);
                Output.json(out, root);
                return 0;
            }
            out.println(WimseVerifier.WIT_HEADER + ": " + wit);
            out.println(WimseVerifier.WPT_HEADER + ": " + proof);
            return 0;
        }

        private static Optional<String> optional(Path file, String what) {
            return file == null ? Optional.empty() : Optional.of(read(file, what));
        }

        private static String read(Path file, String what) {
            try {
                return Files.readString(file, StandardCharsets.US_ASCII).strip();
            } catch (IOException e) {
                throw new CliException("cannot read the " + what + " from " + file.toAbsolutePath() + ": " + e.getMessage(), 2, e);
            }
        }
    }
}
