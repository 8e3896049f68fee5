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
     * subset, require proof of possession through mutual TLS, and for SSH certificates fix the
     * principals, the source addresses and a forced command. Several matching allows combine to the
     * strictest ({@code CompiledPolicy.strictest}): shortest TTL, intersection of scopes and of SSH
     * principals, mTLS if any requires it, the addresses inside every rule's source addresses, and one
     * force command (rules that oblige different commands deny the request).
     *
     * <p>An empty optional leaves that obligation unconstrained; an SSH broker refuses to issue a
     * certificate when {@code sshPrincipals} is empty or absent (a certificate without principals is
     * valid for every user).
     *
     * @param sshPrincipals   the only user names an SSH certificate may name
     * @param sourceAddresses the only client addresses (CIDR blocks, normalised by
     *                        {@link SourceAddresses#parse}) an SSH certificate may be used from; an
     *                        empty list means no address at all (combined rules that do not overlap)
     * @param forceCommand    the command an SSH certificate forces on login
     */
    record Obligations(Optional<Duration> maxTtl, Optional<Set<String>> allowedScopes, boolean requireMutualTls,
                       Optional<Set<String>> sshPrincipals, Optional<List<String>> sourceAddresses,
                       Optional<String> forceCommand) {
        public Obligations {
            Objects.requireNonNull(maxTtl, "maxTtl");
            allowedScopes = allowedScopes.map(Set::copyOf);
            sshPrincipals = sshPrincipals.map(Set::copyOf);
            sourceAddresses = sourceAddresses.map(List::copyOf);
            Objects.requireNonNull(forceCommand, "forceCommand");
        }

        /** Obligations without SSH constraints (kept for callers that predate them). */
        public Obligations(Optional<Duration> maxTtl, Optional<Set<String>> allowedScopes, boolean requireMutualTls) {
            this(maxTtl, allowedScopes, requireMutualTls, Optional.empty(), Optional.empty(), Optional.empty());
        }

        public static Obligations none() {
            return new Obligations(Optional.empty(), Optional.empty(), false);
        }

        /** These obligations with the SSH certificate constraints replaced. */
        public Obligations withSsh(Optional<Set<String>> principals, Optional<List<String>> addresses,
                                   Optional<String> command) {
            return new Obligations(maxTtl, allowedScopes, requireMutualTls, principals, addresses, command);
        }
    }
}
