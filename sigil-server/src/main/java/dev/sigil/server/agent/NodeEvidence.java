package dev.sigil.server.agent;

import dev.sigil.core.Printable;
import dev.sigil.core.selector.Selector;
import java.util.List;
import java.util.Optional;

/**
 * What an operator reads about how a node was attested: a one-line summary of the evidence its attestor
 * accepted, built from the selectors the attestor recorded (never from anything secret: a join token's
 * id, not the token; certificate fingerprints, not keys), and the meaning of its trust level.
 */
final class NodeEvidence {
    private NodeEvidence() {
    }

    /** The summary of {@code agent}'s attestation, e.g. {@code join token 0123... (single use; ...)}. */
    static String summary(String attestorType, List<Selector> selectors) {
        String summary = switch (attestorType) {
            case "join_token" -> value(selectors, attestorType, "id:")
                    .map(id -> "join token " + id + " (single use; no key or platform proof)")
                    .orElse("join token (single use; no key or platform proof)");
            case "x509pop" -> "proof of possession of the key of certificate"
                    + value(selectors, attestorType, "subject:cn:").map(cn -> " cn=" + cn).orElse("")
                    + value(selectors, attestorType, "fingerprint:").map(fp -> " (sha-256 " + prefix(fp) + ")").orElse("")
                    + value(selectors, attestorType, "ca:fingerprint:").map(fp -> ", issued by ca " + prefix(fp)).orElse("");
            case "jwt" -> "signed token of issuer " + value(selectors, attestorType, "issuer:").orElse("(unknown)")
                    + value(selectors, attestorType, "sub:").map(sub -> " for " + sub).orElse("")
                    + value(selectors, attestorType, "k8s:cluster:").map(cluster -> ", cluster " + cluster).orElse("");
            default -> attestorType + " evidence (" + selectors.size() + " selector" + (selectors.size() == 1 ? "" : "s") + ")";
        };
        return Printable.clip(summary, 400);
    }

    /** A trust level with what it means: {@code 2 (verified cryptographic evidence)}. */
    static String level(int trustLevel) {
        return trustLevel + " (" + switch (trustLevel) {
            case 0 -> "none";
            case 1 -> "platform metadata only";
            case 2 -> "verified cryptographic evidence";
            default -> "hardware-rooted evidence";
        } + ")";
    }

    private static Optional<String> value(List<Selector> selectors, String type, String prefix) {
        return selectors.stream().filter(s -> s.type().equals(type) && s.value().startsWith(prefix))
                .map(s -> s.value().substring(prefix.length())).findFirst();
    }

    private static String prefix(String fingerprint) {
        return fingerprint.length() > 16 ? fingerprint.substring(0, 16) + "..." : fingerprint;
    }
}
