package dev.sigil.server;

import dev.sigil.server.audit.AuditEvent;
import dev.sigil.server.authority.RotationEvent;
import java.util.Map;

/** The audit record of each authority rotation step ({@code authority.prepare}, {@code .activate}, {@code .retire}, {@code .prune}). */
final class RotationAudit {
    private RotationAudit() {
    }

    static AuditEvent of(String actor, RotationEvent event) {
        return AuditEvent.success(actor, "authority." + eventName(event), authorityId(event), details(event));
    }

    private static String eventName(RotationEvent event) {
        return switch (event) {
            case RotationEvent.Prepared p -> "prepare";
            case RotationEvent.Activated a -> "activate";
            case RotationEvent.Retired r -> "retire";
            case RotationEvent.Pruned p -> "prune";
        };
    }

    private static String authorityId(RotationEvent event) {
        return switch (event) {
            case RotationEvent.Prepared p -> p.authorityId();
            case RotationEvent.Activated a -> a.authorityId();
            case RotationEvent.Retired r -> r.authorityId();
            case RotationEvent.Pruned p -> p.authorityId();
        };
    }

    private static Map<String, String> details(RotationEvent event) {
        return switch (event) {
            case RotationEvent.Prepared p -> Map.of("kind", p.kind().name().toLowerCase(), "key_id", p.keyId(),
                    "not_before", p.notBefore().toString(), "not_after", p.notAfter().toString());
            case RotationEvent.Activated a -> Map.of("kind", a.kind().name().toLowerCase());
            case RotationEvent.Retired r -> Map.of("kind", r.kind().name().toLowerCase(), "not_after", r.notAfter().toString());
            case RotationEvent.Pruned p -> Map.of("kind", p.kind().name().toLowerCase(),
                    "bundle_sequence", Long.toString(p.bundleSequence()));
        };
    }
}
