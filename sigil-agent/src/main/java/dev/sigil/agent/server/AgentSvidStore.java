package dev.sigil.agent.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sigil.agent.AgentException;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.crypto.Pem;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the agent's SVID, its private key and the trust bundle in {@code <data_dir>/agent-svid.json}
 * so that a restarted agent can resume with them until the SVID expires instead of attesting again
 * (which a single-use join token cannot). The file is written atomically with mode 0600 in a 0700
 * directory; it is the only place the agent writes a private key, through {@link #save}.
 *
 * <p>A file that cannot be read, is readable by group or others, belongs to another trust domain,
 * does not pair key and certificate, or holds an expired SVID is ignored (the agent attests again).
 */
public final class AgentSvidStore {
    private static final Logger LOG = LoggerFactory.getLogger(AgentSvidStore.class);
    private static final String FILE = "agent-svid.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final TrustDomain trustDomain;
    private final Clock clock;

    public AgentSvidStore(Path dataDir, TrustDomain trustDomain, Clock clock) {
        this.file = dataDir.resolve(FILE);
        this.trustDomain = trustDomain;
        this.clock = clock;
    }

    public Path file() {
        return file;
    }

    /** Writes the credentials and bundle, replacing the previous file atomically. */
    public void save(AgentCredentials credentials, SpiffeBundle bundle) {
        ObjectNode root = JSON.createObjectNode();
        root.put("spiffe_id", credentials.svid().spiffeId().toString());
        List<String> chain = new ArrayList<>();
        for (X509Certificate certificate : credentials.svid().chain()) {
            chain.add(Pem.encodeCertificates(List.of(certificate)));
        }
        root.putPOJO("chain_pem", chain);
        root.put("private_key_pkcs8", Base64.getEncoder().encodeToString(credentials.exportPrivateKey().getEncoded()));
        root.put("trust_level", credentials.svid().trustLevel());
        root.put("bundle", bundle.toJson());
        try {
            Path dir = file.getParent();
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            Path temp = Files.createTempFile(dir, FILE, ".tmp", PosixFilePermissions.asFileAttribute(Set.of(
                    PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE)));
            try {
                Files.writeString(temp, JSON.writeValueAsString(root), StandardCharsets.UTF_8);
                try {
                    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(temp);
            }
        } catch (IOException e) {
            throw new AgentException("cannot write the agent svid to " + file + ": " + e.getMessage(), e);
        }
    }

    /** The stored credentials and bundle, when present, readable, of this trust domain and not expired. */
    public Optional<Stored> load() {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
            if (!Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE).containsAll(permissions)) {
                LOG.warn("ignoring the stored agent svid in {}: its mode is {}, readable by others; it must be 0600 (rw-------)",
                        file, PosixFilePermissions.toString(permissions));
                return Optional.empty();
            }
            var root = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
            SpiffeId id = SpiffeId.parse(root.path("spiffe_id").asText());
            if (!id.memberOf(trustDomain)) {
                LOG.warn("ignoring the stored agent svid {}: it is not in trust domain '{}'", id, trustDomain);
                return Optional.empty();
            }
            List<X509Certificate> chain = new ArrayList<>();
            for (var pem : root.path("chain_pem")) {
                chain.addAll(Pem.parseCertificates(pem.asText(), file.toString()));
            }
            SpiffeBundle bundle = SpiffeBundle.parse(trustDomain, root.path("bundle").asText());
            AgentSvid svid = new AgentSvid(id, chain, Optional.of(bundle), root.path("trust_level").asInt(), List.of());
            if (!clock.instant().isBefore(svid.notAfter())) {
                LOG.info("the stored agent svid {} expired at {}; attesting again", id, svid.notAfter());
                return Optional.empty();
            }
            byte[] pkcs8 = Base64.getDecoder().decode(root.path("private_key_pkcs8").asText());
            KeyPair keys = new KeyPair(svid.leaf().getPublicKey(),
                    KeyFactory.getInstance(svid.leaf().getPublicKey().getAlgorithm()).generatePrivate(new PKCS8EncodedKeySpec(pkcs8)));
            java.security.Signature signer = java.security.Signature.getInstance("SHA256withECDSA");
            signer.initSign(keys.getPrivate());
            signer.update(FILE.getBytes(StandardCharsets.UTF_8));
            java.security.Signature verifier = java.security.Signature.getInstance("SHA256withECDSA");
            verifier.initVerify(svid.leaf());
            verifier.update(FILE.getBytes(StandardCharsets.UTF_8));
            if (!verifier.verify(signer.sign())) {
                LOG.warn("ignoring the stored agent svid in {}: its private key does not match its certificate", file);
                return Optional.empty();
            }
            return Optional.of(new Stored(new AgentCredentials(keys, svid), bundle));
        } catch (dev.sigil.core.SigilException | IllegalArgumentException e) {
            LOG.warn("ignoring the stored agent svid in {}: {}", file, e.getMessage());
            return Optional.empty();
        } catch (Exception e) {
            // parser messages may quote file content, which includes the private key: name the failure only
            LOG.warn("ignoring the stored agent svid in {}: it cannot be read ({})", file, e.getClass().getSimpleName());
            return Optional.empty();
        }
    }

    /** Removes the stored SVID (after the server refused it). */
    public void delete() {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", file, e.getMessage());
        }
    }

    /** What {@link #load} found. */
    public record Stored(AgentCredentials credentials, SpiffeBundle bundle) {
    }
}
