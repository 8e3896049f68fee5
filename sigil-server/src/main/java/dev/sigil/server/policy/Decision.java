package dev.sigil.server.policy;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The outcome of one policy evaluation, with the reasons (which rules matched and why) that are shown
 * to operators and written to the audit trail. Default deny: no matching allow rule is a {@link Deny}.
 */
public sealed interface Decision {
    List<String> reasons();

    record Allow(List<String> reasons, Obligations obligations) implements Decision {
        public Allow {
            reasons = List.copyOf(reasons);
            Objects.requireNonNull(obligations, "obligations");
        }
    }

    record Deny(List<String> reasons) implements Decision {
        public Deny {
            reasons = List.copyOf(reasons);
        }
    }

    /**
     * What an allow obliges the issuer to do: cap the credential's lifetime, narrow its scopes to a
     * subset, require proof of possession through mutual TLS. Several matching allows combine to the
     * strictest (shortest TTL, intersection of scopes, mTLS if any requires it).
     */
    record Obligations(Optional<Duration> maxTtl, Optional<Set<String>> allowedScopes, boolean requireMutualTls) {
        public Obligations {
            Objects.requireNonNull(maxTtl, "maxTtl");
            allowedScopes = allowedScopes.map(Set::copyOf);
        }

        public static Obligations none() {
            return new Obligations(Optional.empty(), Optional.empty(), false);
        }
    }
}
