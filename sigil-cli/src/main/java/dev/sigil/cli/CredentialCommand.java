package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.proto.workload.JWTSVIDResponse;
import dev.sigil.proto.workload.X509SVID;
import dev.sigil.proto.workload.X509SVIDResponse;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sigil credential get} and {@code sigil credential txn}: run by a workload. Each fetches the
 * workload's own SVIDs and X.509 bundle from the agent's Workload API and asks the token service over
 * HTTPS that trusts only that bundle and expects the server's SPIFFE ID
 * ({@code spiffe://<trust domain>/sigil/server}): {@code get} for a brokered credential
 * ({@code POST /v1/credentials}, authenticated by a JWT-SVID), {@code txn} for a transaction token
 * (token exchange, authenticated by the X.509-SVID over mutual TLS); prints it once.
 */
@Command(name = "credential", description = "Gets brokered credentials and transaction tokens for this workload.",
        subcommands = {CredentialCommand.Get.class, CredentialCommand.Txn.class})
final class CredentialCommand extends GroupCommand {
    static final String DEFAULT_SERVER = "https://127.0.0.1:8444";

    /** What both subcommands share: where the token service is and which JWT-SVID audience it wants. */
    abstract static class TokenServiceCommand extends AgentApiCommand.WorkloadApiCommand {
        @Option(names = "--server", paramLabel = "URL",
                description = "The token service (default: $SIGIL_TOKEN_URL, else " + DEFAULT_SERVER + ", the port 'sigil dev' uses).")
        URI server;

        @Option(names = "--audience", paramLabel = "AUD",
                description = "The token service's JWT-SVID audience (default: $SIGIL_TOKEN_AUDIENCE, else what the token service "
                        + "publishes at /.well-known/oauth-authorization-server).")
        String audience;

        TokenServiceCommand(CliContext context) {
            super(context);
        }

        /** This workload's first X.509-SVID from the Workload API. */
        static X509SVID ownSvid(WorkloadApiClient client) {
            X509SVIDResponse x509 = client.fetchX509Svids();
            if (x509.getSvidsCount() == 0) {
                throw new CliException("the workload api gave this process no x509-svid; is it registered?");
            }
            return x509.getSvids(0);
        }

        TokenServiceClient connect(X509SVID own, boolean mutualTls) {
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
            List<X509Certificate> bundle = FetchX509Command.certificates(own.getBundle(), "bundle of " + own.getSpiffeId());
            SpiffeId self = SpiffeId.parse(own.getSpiffeId());
            SpiffeId expectedServer = SpiffeId.parse("spiffe://" + self.trustDomain().name() + "/sigil/server");
            Optional<TokenServiceClient.ClientIdentity> identity = mutualTls
                    ? Optional.of(new TokenServiceClient.ClientIdentity(FetchX509Command.certificates(own.getX509Svid(), "x509-svid of "
                    + own.getSpiffeId()), own.getX509SvidKey().toByteArray()))
                    : Optional.empty();
            return new TokenServiceClient(server, bundle, expectedServer, identity, timeout);
        }

        /** A JWT-SVID of this workload for the token service's audience (discovered unless given). */
        String ownJwtSvid(WorkloadApiClient client, TokenServiceClient service, X509SVID own) {
            String tokenAudience = audience != null && !audience.isBlank() ? audience : service.discoverAudience();
            JWTSVIDResponse jwt = client.fetchJwtSvids(List.of(tokenAudience), Optional.of(own.getSpiffeId()));
            if (jwt.getSvidsCount() == 0) {
                throw new CliException("the workload api gave no jwt-svid for audience " + tokenAudience);
            }
            return jwt.getSvids(0).getSvid();
        }
    }

    @Command(name = "get", description = "Gets a credential from a broker (POST /v1/credentials), authenticated by this workload's SVID.")
    static final class Get extends TokenServiceCommand {
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

        Get(CliContext context) {
            super(context);
        }

        @Override
        int run(WorkloadApiClient client, PrintWriter out) {
            X509SVID own = ownSvid(client);
            TokenServiceClient service = connect(own, false);
            String svid = ownJwtSvid(client, service, own);
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
            JsonNode answer = service.postJson("/v1/credentials", svid, body);
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
    }

    /**
     * {@code sigil credential txn}: a transaction token (draft-ietf-oauth-transaction-tokens) for a
     * transaction this workload starts or continues. The workload authenticates with its X.509-SVID
     * (mutual TLS); the subject is its own JWT-SVID unless {@code --subject-token-file} names an access
     * token it received or a transaction token to replace.
     */
    @Command(name = "txn", description = "Gets a transaction token (token exchange, requested_token_type txn_token) for a call chain.")
    static final class Txn extends TokenServiceCommand {
        static final String TXN_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:txn_token";

        enum SubjectType {
            jwt("urn:ietf:params:oauth:token-type:jwt"),
            access_token("urn:ietf:params:oauth:token-type:access_token"),
            txn_token(TXN_TOKEN_TYPE);

            final String urn;

            SubjectType(String urn) {
                this.urn = urn;
            }
        }

        @Option(names = "--scope", required = true, paramLabel = "SCOPES", description = "The transaction's purpose: space-separated scopes.")
        String scope;

        @Option(names = "--details", paramLabel = "JSON", description = "request_details: a JSON object that becomes the token's tctx.")
        String details;

        @Option(names = "--context", paramLabel = "JSON", description = "request_context: a JSON object that becomes the token's rctx.")
        String requestContext;

        @Option(names = "--task", paramLabel = "T", description = "The task the transaction runs under (its id and purpose go into tctx).")
        String task;

        @Option(names = "--subject-token-file", paramLabel = "FILE",
                description = "The subject: a file holding an access token this workload received, or a txn token to replace. "
                        + "Default: this workload's own JWT-SVID.")
        String subjectTokenFile;

        @Option(names = "--subject-token-type", paramLabel = "TYPE", defaultValue = "access_token",
                description = "What --subject-token-file holds: access_token (default), txn_token or jwt.")
        SubjectType subjectTokenType;

        Txn(CliContext context) {
            super(context);
        }

        @Override
        int run(WorkloadApiClient client, PrintWriter out) {
            X509SVID own = ownSvid(client);
            TokenServiceClient service = connect(own, true);
            String trustDomain = SpiffeId.parse(own.getSpiffeId()).trustDomain().name();
            Map<String, String> form = new LinkedHashMap<>();
            form.put("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange");
            form.put("requested_token_type", TXN_TOKEN_TYPE);
            form.put("audience", trustDomain);
            form.put("scope", scope);
            if (subjectTokenFile == null) {
                form.put("subject_token", ownJwtSvid(client, service, own));
                form.put("subject_token_type", SubjectType.jwt.urn);
            } else {
                form.put("subject_token", readToken(subjectTokenFile));
                form.put("subject_token_type", subjectTokenType.urn);
            }
            if (details != null) {
                form.put("request_details", details);
            }
            if (requestContext != null) {
                form.put("request_context", requestContext);
            }
            if (task != null) {
                form.put("task", task);
            }
            JsonNode answer = service.postForm("/oauth2/token", form);
            if (json()) {
                Output.json(out, answer);
                return 0;
            }
            Output.field(out, "Txn token", answer.path("access_token").asText());
            Output.field(out, "Scope", answer.path("scope").asText());
            Output.field(out, "Expires in", answer.path("expires_in").asText() + "s");
            return 0;
        }

        private String readToken(String file) {
            try {
                byte[] bytes = java.nio.file.Files.readAllBytes(java.nio.file.Path.of(file));
                String token = new String(bytes, StandardCharsets.UTF_8).strip();
                if (token.isEmpty()) {
                    throw new CliException("--subject-token-file " + file + " is empty; it must hold the token (a compact jwt)");
                }
                return token;
            } catch (IOException e) {
                throw new CliException("cannot read --subject-token-file " + file + ": " + IoProblems.describe(e));
            }
        }
    }
}
