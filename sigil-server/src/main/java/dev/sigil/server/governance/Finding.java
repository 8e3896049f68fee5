package dev.sigil.server.governance;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One posture finding: a fact computed from Sigil's own data, with how bad it is, whom it concerns and
 * what to do about it. {@code check} is a stable id a console or a script may branch on
 * ({@code nhi1.owner_unknown}); {@code identities} are SPIFFE IDs (of workloads or agents) or, for
 * policy findings, the rule's subject pattern. Strings that came from outside (owners, SPIFFE IDs,
 * resources) are clipped and stripped of control characters before they get here.
 */
public record Finding(String check, Nhi nhi, Severity severity, String title, List<String> identities, String detail, String fix) {
    public Finding {
        Objects.requireNonNull(check, "check");
        Objects.requireNonNull(nhi, "nhi");
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(title, "title");
        identities = List.copyOf(identities);
        Objects.requireNonNull(detail, "detail");
        Objects.requireNonNull(fix, "fix");
    }

    /** Severity, most severe first; lower-case on the wire. */
    public enum Severity {
        CRITICAL, HIGH, MEDIUM, LOW;

        @com.fasterxml.jackson.annotation.JsonValue
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The OWASP Non-Human Identities Top 10 (2025) risks Sigil's data can speak to. */
    public enum Nhi {
        NHI1("Improper Offboarding"),
        NHI2("Secret Leakage"),
        NHI3("Vulnerable Third-Party NHI"),
        NHI4("Insecure Authentication"),
        NHI5("Overprivileged NHI"),
        NHI7("Long-Lived Secrets"),
        NHI8("Environment Isolation"),
        NHI9("NHI Reuse"),
        NHI10("Human Use of NHI");

        private final String title;

        Nhi(String title) {
            this.title = title;
        }

        public String title() {
            return title;
        }
    }
}
