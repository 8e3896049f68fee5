package dev.sigil.server.agent;

import com.google.protobuf.ByteString;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.selector.Selector;
import dev.sigil.proto.agent.v1.AgentSvid;
import dev.sigil.proto.agent.v1.Bundle;
import dev.sigil.proto.agent.v1.Entry;
import dev.sigil.server.authority.X509Svid;
import dev.sigil.server.registration.RegistrationEntry;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Domain values to agent API messages. */
final class AgentProtos {
    private AgentProtos() {
    }

    static Bundle bundle(SpiffeBundle bundle) {
        return Bundle.newBuilder()
                .setTrustDomain(bundle.trustDomain().toString())
                .setSpiffeBundle(ByteString.copyFrom(bundle.toJson(), StandardCharsets.UTF_8))
                .setSequence(bundle.sequence())
                .build();
    }

    /** A digest of a set of bundles in trust domain order: empty for none, else SHA-256 over their documents. */
    static String federatedDigest(java.util.Collection<SpiffeBundle> bundles) {
        if (bundles.isEmpty()) {
            return "";
        }
        try {
            java.security.MessageDigest sha256 = java.security.MessageDigest.getInstance("SHA-256");
            for (SpiffeBundle bundle : bundles) {
                sha256.update((bundle.trustDomain().name() + "\n" + bundle.toJson() + "\n").getBytes(StandardCharsets.UTF_8));
            }
            return java.util.HexFormat.of().formatHex(sha256.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("sha-256 is not available", e);
        }
    }

    static AgentSvid agentSvid(Agent agent, X509Svid svid, SpiffeBundle bundle) {
        AgentSvid.Builder builder = AgentSvid.newBuilder()
                .setSpiffeId(agent.spiffeId().toString())
                .setBundle(bundle(bundle))
                .setTrustLevel(agent.trustLevel())
                .setExpiresAtUnixSeconds(svid.expiresAt().getEpochSecond());
        svid.chainDer().forEach(der -> builder.addCertChain(ByteString.copyFrom(der)));
        agent.selectors().forEach(selector -> builder.addSelectors(selector(selector)));
        return builder.build();
    }

    static dev.sigil.proto.agent.v1.Selector selector(Selector selector) {
        return dev.sigil.proto.agent.v1.Selector.newBuilder().setType(selector.type()).setValue(selector.value()).build();
    }

    static Entry entry(RegistrationEntry entry) {
        Entry.Builder builder = Entry.newBuilder()
                .setId(entry.id())
                .setRevision(entry.revision())
                .setSpiffeId(entry.spiffeId().toString())
                .setParentId(entry.parentId().toString())
                .setX509SvidTtlSeconds(entry.x509SvidTtl().toSeconds())
                .setJwtSvidTtlSeconds(entry.jwtSvidTtl().toSeconds())
                .addAllDnsNames(entry.dnsNames())
                .setHint(entry.hint())
                .setAdmin(entry.admin());
        entry.selectors().forEach(selector -> builder.addSelectors(selector(selector)));
        entry.expiresAt().ifPresent(at -> builder.setExpiresAtUnixSeconds(at.getEpochSecond()));
        entry.federatesWith().forEach(td -> builder.addFederatesWith(td.toString()));
        return builder.build();
    }

    static List<ByteString> chain(X509Svid svid) {
        return svid.chainDer().stream().map(ByteString::copyFrom).toList();
    }
}
