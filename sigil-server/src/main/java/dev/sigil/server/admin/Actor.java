package dev.sigil.server.admin;

import dev.sigil.core.spiffeid.SpiffeId;
import java.util.Objects;
import java.util.Optional;

/**
 * Who called the admin API, established by the transport and never by anything in the request:
 * either the local operator on the owner-only Unix socket, or a workload whose X.509-SVID passed
 * mutual TLS and whose SPIFFE ID the {@link AdminAuthorizer} accepted. Handlers pass it to the audit
 * trail.
 */
public sealed interface Actor {
    /** A stable, human-readable description for audit records, e.g. {@code local:alice} or a SPIFFE ID. */
    String describe();

    /**
     * The caller on the admin Unix socket. The socket is mode 0600 in a 0700 directory, so the caller
     * runs as the server's own user (or root); {@code user} and {@code group} come from the kernel's
     * peer credentials (SO_PEERCRED) when the platform provides them. A name is the numeric id when
     * the id has no account name.
     */
    record LocalOperator(Optional<String> user, Optional<String> group) implements Actor {
        public LocalOperator {
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(group, "group");
        }

        public static LocalOperator unknown() {
            return new LocalOperator(Optional.empty(), Optional.empty());
        }

        @Override
        public String describe() {
            return "local:" + user.orElse("unknown");
        }
    }

    /** A caller authenticated by an X.509-SVID over mutual TLS and authorized as an admin. */
    record Svid(SpiffeId spiffeId) implements Actor {
        public Svid {
            Objects.requireNonNull(spiffeId, "spiffeId");
        }

        @Override
        public String describe() {
            return spiffeId.toString();
        }
    }

    /**
     * An admin acting through the web console: {@code operator} is who redeemed the one-time login code
     * (never itself a console actor). Audit records name it {@code console:<operator>}, so every change
     * made in a browser is told apart from the same change made with the CLI.
     */
    record Console(Actor operator) implements Actor {
        public Console {
            Objects.requireNonNull(operator, "operator");
            if (operator instanceof Console) {
                throw new IllegalArgumentException("a console actor acts for an operator, not for another console actor");
            }
        }

        @Override
        public String describe() {
            return "console:" + operator.describe();
        }
    }
}
