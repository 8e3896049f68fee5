package dev.sigil.server.grant;

import dev.sigil.core.spiffeid.SpiffeId;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One request for a credential, from verified evidence only (the front door has authenticated the
 * holder, and the actor if any, before it builds this).
 *
 * @param holder     the verified subject the credential is for
 * @param actor      the verified party acting on the holder's behalf (RFC 8693 actor); policy must allow
 *                   it too, and it can only narrow what the holder gets
 * @param delegation the verified delegation chain handed to policy, outermost actor first
 * @param mutualTls  whether the caller proved possession of its X.509-SVID on this connection
 * @param action     the policy action ({@code token:exchange}, {@code credential:issue})
 * @param target     what the credential is for, as the task boundary and policy see it
 * @param scopes     the scopes asked for (empty: what policy allows the holder, or none)
 * @param task       the task the request claims to run under
 * @param attributes extra request attributes for policy conditions ({@code mtls} is always set)
 * @param limits     the lifetime the front door asks for and the bounds it knows of
 */
public record GrantRequest(SpiffeId holder, Optional<SpiffeId> actor, List<SpiffeId> delegation, boolean mutualTls, String action,
                           Target target, List<String> scopes, Optional<String> task, Map<String, Object> attributes,
                           Limits limits) {
    public GrantRequest {
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(actor, "actor");
        delegation = List.copyOf(delegation);
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(target, "target");
        scopes = List.copyOf(scopes);
        Objects.requireNonNull(task, "task");
        attributes = Map.copyOf(attributes);
        Objects.requireNonNull(limits, "limits");
    }

    /**
     * What the credential is for: an access token's audience, a broker's {@code <type>:<resource>}.
     *
     * @param noun how refusals name it ("audience", "resource")
     */
    public record Target(String noun, String value) {
        public Target {
            Objects.requireNonNull(noun, "noun");
            Objects.requireNonNull(value, "value");
        }

        public static Target audience(String audience) {
            return new Target("audience", audience);
        }

        public static Target resource(String qualified) {
            return new Target("resource", qualified);
        }
    }

    /**
     * The lifetime bounds a front door knows of; policy's {@code max_ttl} and the task's end are added by
     * the pipeline. The credential lives {@code requested} (else {@code defaultTtl}), never past
     * {@code maxTtl} from now, the task's end or {@code deadline}.
     *
     * @param credential how refusals name the credential ("token", "lease")
     * @param deadline   an instant no credential may outlive (the signing key's end, for a token)
     */
    public record Limits(String credential, Optional<Duration> requested, Duration defaultTtl, Duration maxTtl,
                         Optional<Instant> deadline) {
        public Limits {
            Objects.requireNonNull(credential, "credential");
            Objects.requireNonNull(requested, "requested");
            Objects.requireNonNull(defaultTtl, "defaultTtl");
            Objects.requireNonNull(maxTtl, "maxTtl");
            Objects.requireNonNull(deadline, "deadline");
        }
    }
}
