package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.proto.workload.JWTSVIDResponse;
import dev.sigil.proto.workload.X509SVID;
import dev.sigil.proto.workload.X509SVIDResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.TrustManagerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sigil credential get}: run by a workload. Fetches its own JWT-SVID (for the token service's
 * audience) and X.509 bundle from the agent's Workload API, then asks the token service for a
 * brokered credential ({@code POST /v1/credentials}) over HTTPS that trusts only that bundle and
 * expects the server's SPIFFE ID ({@code spiffe://<trust domain>/sigil/server}); prints it once.
 */
@Command(name = "credential", description = "Gets brokered credentials for this workload.", subcommands = CredentialCommand.Get.class)
final class CredentialCommand extends GroupCommand {

    @Command(name = "get", description = "Gets a credential from a broker (POST /v1/credentials), authenticated by this workload's SVID.")
    static final class Get extends AgentApiCommand.WorkloadApiCommand {
        static final String DEFAULT_SERVER = "https://127.0.0.1:8444";
        @Option(names = "--broker", required = true, paramLabel = "B", description = "The broker: postgresql, ssh, ...")
        String broker;

        @Option(names = "--resource", required = true, paramLabel = "R", description = "The resource, in the broker's terms.")
        String resource;

        @Option(names = "--task", paramLabel = "T", description = "The task the credential is for.")
        String task;

        @Option(names = "--ttl", paramLabel = "DURATION", converter = Converters.DurationConverter.class,
                description = "Requested lifetime (capped by the broker and policy).")
        Duration ttl;

        @Option(names = "--param", paramLabel = "K=V", description = "A broker parameter, e.g. public_key=... (repeatable).")
        Map<String, String> parameters = new LinkedHashMap<>();

        @Option(names = "--server", paramLabel = "URL",
                description = "The token service (default: $SIGIL_TOKEN_URL, else " + DEFAULT_SERVER + ", the port 'sigil dev' uses).")
        URI server;

        @Option(names = "--audience", paramLabel = "AUD",
                description = "The token service's JWT-SVID audience (default: $SIGIL_TOKEN_AUDIENCE, else what the token service "
                        + "publishes at /.well-known/oauth-authorization-server).")
        String audience;

        Get(CliContext context) {
            super(context);
        }

        @Override
        int run(WorkloadApiClient client, PrintWriter out) {
            if (server == null) {
                String url = context.environment().variable("SIGIL_TOKEN_URL").orElse(DEFAULT_SERVER);
                try {
                    server = URI.create(url.trim());
                } catch (IllegalArgumentException e) {
                    throw new CliException("SIGIL_TOKEN_URL '" + dev.sigil.core.Printable.clip(url) + "' is not a url; "
                            + "expected https://host:port of the token service");
                }
            }
            if (audience == null) {
                audience = context.environment().variable("SIGIL_TOKEN_AUDIENCE").orElse(null);
            }
            X509SVIDResponse x509 = client.fetchX509Svids();
            if (x509.getSvidsCount() == 0) {
                throw new CliException("the workload api gave this process no x509-svid; is it registered?");
            }
            X509SVID own = x509.getSvids(0);
            List<X509Certificate> bundle = FetchX509Command.certificates(own.getBundle(), "bundle of " + own.getSpiffeId());
            SpiffeId self = SpiffeId.parse(own.getSpiffeId());
            SpiffeId expectedServer = SpiffeId.parse("spiffe://" + self.trustDomain().name() + "/sigil/server");
            String tokenAudience = audience != null && !audience.isBlank() ? audience : discoverAudience(bundle, expectedServer);
            JWTSVIDResponse jwt = client.fetchJwtSvids(List.of(tokenAudience), Optional.of(self.toString()));
            if (jwt.getSvidsCount() == 0) {
                throw new CliException("the workload api gave no jwt-svid for audience " + tokenAudience);
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("broker", broker);
            body.put("resource", resource);
            if (task != null) {
                body.put("task", task);
            }
            if (ttl != null) {
                body.put("ttl", ttl.toSeconds());
            }
            if (!parameters.isEmpty()) {
                body.put("parameters", parameters);
            }
            JsonNode answer = post(jwt.getSvids(0).getSvid(), bundle, expectedServer, body);
            TtlCap.warnIfCapped(context.err(), "credential", ttl, answer.get("expires_at"));
            if (json()) {
                Output.json(out, answer);
                return 0;
            }
            Output.field(out, "Lease ID", answer.path("lease_id").asText());
            Output.field(out, "Expires at", answer.path("expires_at").asText());
            answer.path("credential").fields().forEachRemaining(e -> Output.field(out, e.getKey(), e.getValue().asText()));
            return 0;
        }

        /**
         * The audience the token service wants on JWT-SVIDs, from its RFC 8414 metadata, fetched over
         * the same authenticated TLS as the request itself (the server proves its SPIFFE ID).
         */
        private String discoverAudience(List<X509Certificate> bundle, SpiffeId expectedServer) {
            HttpsURLConnection connection = open("/.well-known/oauth-authorization-server", bundle, expectedServer);
            try {
                int status = connection.getResponseCode();
                if (status != 200) {
                    throw new CliException("the token service at " + server + " publishes no metadata (" + status
                            + "); give its audience with --audience or SIGIL_TOKEN_AUDIENCE");
                }
                try (InputStream in = connection.getInputStream()) {
                    String found = new ObjectMapper().readTree(in).path("sigil_jwt_svid_audience").asText("");
                    if (found.isBlank()) {
                        throw new CliException("the token service at " + server + " names no sigil_jwt_svid_audience in its metadata; "
                                + "give its audience with --audience or SIGIL_TOKEN_AUDIENCE");
                    }
                    return found;
                }
            } catch (IOException e) {
                throw new CliException("cannot reach the token service at " + server + ": " + e.getMessage()
                        + " (set SIGIL_TOKEN_URL or --server to its https url)", 1, e);
            } finally {
                connection.disconnect();
            }
        }

        private HttpsURLConnection open(String path, List<X509Certificate> bundle, SpiffeId expectedServer) {
            HttpsURLConnection connection;
            try {
                URL url = server.resolve(path).toURL();
                connection = (HttpsURLConnection) url.openConnection();
            } catch (IOException | IllegalArgumentException | ClassCastException e) {
                throw new CliException("--server " + server + " is not an https url: " + e.getMessage());
            }
            connection.setSSLSocketFactory(trusting(bundle).getSocketFactory());
            // The server proves its SPIFFE ID (URI SAN), not a DNS name: check that instead of the host name.
            connection.setHostnameVerifier((host, session) -> {
                try {
                    X509Certificate leaf = (X509Certificate) session.getPeerCertificates()[0];
                    return leaf.getSubjectAlternativeNames() != null && leaf.getSubjectAlternativeNames().stream()
                            .anyMatch(san -> Integer.valueOf(6).equals(san.get(0)) && expectedServer.toString().equals(san.get(1)));
                } catch (SSLPeerUnverifiedException | java.security.cert.CertificateParsingException e) {
                    return false;
                }
            });
            int timeoutMs = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
            connection.setConnectTimeout(timeoutMs);
            connection.setReadTimeout(timeoutMs);
            return connection;
        }

        private JsonNode post(String svid, List<X509Certificate> bundle, SpiffeId expectedServer, Map<String, Object> body) {
            ObjectMapper mapper = new ObjectMapper();
            HttpsURLConnection connection = open("/v1/credentials", bundle, expectedServer);
            try {
                connection.setRequestMethod("POST");
                connection.setDoOutput(true);
                connection.setRequestProperty("Content-Type", "application/json");
                connection.setRequestProperty("Authorization", "Bearer " + svid);
                try (OutputStream stream = connection.getOutputStream()) {
                    stream.write(mapper.writeValueAsBytes(body));
                }
                int status = connection.getResponseCode();
                InputStream in = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
                String text = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
                JsonNode json = text.isEmpty() ? mapper.createObjectNode() : mapper.readTree(text);
                if (status != 200) {
                    throw new CliException("the token service refused (" + status + " " + json.path("error").asText("") + "): "
                            + json.path("error_description").asText(text));
                }
                return json;
            } catch (IOException e) {
                throw new CliException("cannot reach the token service at " + server + ": " + e.getMessage(), 1, e);
            } finally {
                connection.disconnect();
            }
        }

        private static SSLContext trusting(List<X509Certificate> bundle) {
            try {
                KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
                store.load(null, null);
                List<X509Certificate> roots = new ArrayList<>(bundle);
                for (int i = 0; i < roots.size(); i++) {
                    store.setCertificateEntry("bundle-" + i, roots.get(i));
                }
                TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                trust.init(store);
                SSLContext context = SSLContext.getInstance("TLS");
                context.init(null, trust.getTrustManagers(), null);
                return context;
            } catch (GeneralSecurityException | IOException e) {
                throw new CliException("cannot build a trust store from the workload api's bundle: " + e.getMessage(), 1, e);
            }
        }
    }
}
