package dev.sigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sigil.core.spiffeid.SpiffeId;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.util.io.pem.PemGenerationException;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sigil x509 mint}: an X.509-SVID signed by the server's CA. The key pair is generated here and
 * only a CSR is sent, so the private key never crosses the socket; with {@code --write} it is written
 * owner-only (0600).
 */
@Command(name = "x509", description = "Mints X.509-SVIDs.", subcommands = X509Command.Mint.class)
final class X509Command extends GroupCommand {

    /** Body of POST /v1/svids/x509: a PEM CSR (its subject is ignored); ttl in seconds. */
    record MintBody(SpiffeId spiffeId, String csr, Long ttl, List<String> dnsNames) {
    }

    @Command(name = "mint", description = "Mints an X.509-SVID (POST /v1/svids/x509).")
    static final class Mint extends ClientCommand {
        @Option(names = "--spiffe-id", required = true, paramLabel = "ID", converter = Converters.SpiffeIdConverter.class,
                description = "The SPIFFE ID (URI SAN).")
        SpiffeId spiffeId;

        @Option(names = "--ttl", paramLabel = "DURATION", converter = Converters.DurationConverter.class,
                description = "Lifetime (default: the server's default_x509_svid_ttl).")
        Duration ttl;

        @Option(names = "--dns", paramLabel = "NAME", description = "A DNS name SAN (repeatable).")
        List<String> dnsNames;

        @Option(names = "--write", paramLabel = "DIR",
                description = "Write svid.pem, svid.key (0600) and bundle.pem into DIR instead of printing them.")
        Path write;

        Mint(CliContext context) {
            super(context);
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            KeyPair keys = generateKey();
            AdminClient.Answer answer = client.post("/v1/svids/x509",
                    new MintBody(spiffeId, csr(keys), ttl == null ? null : ttl.toSeconds(), orEmpty(dnsNames)));
            JsonNode json = answer.json();
            TtlCap.warnIfCapped(context.err(), "x509-svid", ttl, json.get("expires_at"));
            String chain = json.path("cert_chain_pem").asText();
            String bundle = json.path("bundle_pem").asText();
            String key = pem(pkcs8(keys));
            if (write != null) {
                writeFiles(write, chain, key, bundle);
                print(json, ignored -> out.println("wrote the x509-svid for " + spiffeId + " to " + write.toAbsolutePath()
                        + " (svid.pem, svid.key, bundle.pem)" + (json.hasNonNull("expires_at") ? "; expires at " + json.path("expires_at").asText() : "")));
            } else if (options.output() == OutputFormat.json) {
                com.fasterxml.jackson.databind.node.ObjectNode withKey = json.deepCopy();
                withKey.put("private_key_pem", key);
                Output.json(out, withKey);
            } else {
                out.println("X509-SVID:");
                out.print(chain);
                out.println("Private key:");
                out.print(key);
                out.println("Root CAs:");
                out.print(bundle);
            }
            return 0;
        }

        private static KeyPair generateKey() {
            try {
                KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
                generator.initialize(new ECGenParameterSpec("secp256r1"));
                return generator.generateKeyPair();
            } catch (GeneralSecurityException e) {
                throw new CliException("cannot generate an ec p-256 key: " + e.getMessage(), 1, e);
            }
        }

        private static String csr(KeyPair keys) {
            try {
                return pem(new JcaPKCS10CertificationRequestBuilder(new X500Name("O=Sigil"), keys.getPublic())
                        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
            } catch (OperatorCreationException e) {
                throw new CliException("cannot build the certificate signing request: " + e.getMessage(), 1, e);
            }
        }

        private static Object pkcs8(KeyPair keys) {
            try {
                return new JcaPKCS8Generator(keys.getPrivate(), null).generate();
            } catch (PemGenerationException e) {
                throw new CliException("cannot encode the private key: " + e.getMessage(), 1, e);
            }
        }

        private static String pem(Object object) {
            StringWriter text = new StringWriter();
            try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
                writer.writeObject(object);
            } catch (IOException e) {
                throw new CliException("cannot encode pem: " + e.getMessage(), 1, e);
            }
            return text.toString();
        }

        /** Each file is written to a temporary sibling with its final permissions, then moved into place. */
        static void writeFiles(Path dir, String chain, String key, String bundle) {
            try {
                Files.createDirectories(dir);
                AtomicFiles.replace(dir.resolve("svid.pem"), chain, "rw-r--r--");
                AtomicFiles.replace(dir.resolve("svid.key"), key, "rw-------");
                AtomicFiles.replace(dir.resolve("bundle.pem"), bundle, "rw-r--r--");
            } catch (IOException e) {
                throw new CliException("cannot write the svid files to " + dir + ": " + e.getMessage(), 1, e);
            }
        }
    }
}
