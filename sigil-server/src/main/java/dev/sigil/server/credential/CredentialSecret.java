package dev.sigil.server.credential;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The secret part of a brokered credential (a database password, an SSH certificate, an access
 * token), handed to the requesting workload once and never stored, logged or audited in clear.
 *
 * <p>Security properties: {@link #toString()} names the fields but never their values; the only way
 * to read a value is {@link #revealToHolder()}, a name meant to be grepped, called where the
 * credential is written into the response to its holder. The lease service stores and audits only a
 * keyed hash of {@link #leakKey()}, so a responder holding the leaked value can find the lease.
 */
public final class CredentialSecret {
    private final Map<String, String> fields;
    private final String leakKey;

    /**
     * @param fields  the values the holder receives, by name (e.g. {@code username}, {@code password});
     *                field names are not secret, values are
     * @param leakKey the canonical form of the value a leak report would carry (the password, the
     *                certificate's base64 blob, the token) — what {@link Broker#leakKey} maps a
     *                reported leak to
     */
    public CredentialSecret(Map<String, String> fields, String leakKey) {
        this.fields = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(fields, "fields")));
        this.leakKey = Objects.requireNonNull(leakKey, "leakKey");
        if (leakKey.isEmpty()) {
            throw new IllegalArgumentException("a credential's leak key must not be empty");
        }
    }

    /** The values, for the response to the holder only. */
    public Map<String, String> revealToHolder() {
        return fields;
    }

    /** The canonical secret the lease service keyed-hashes for leak lookup; never store or log it. */
    public String leakKey() {
        return leakKey;
    }

    @Override
    public String toString() {
        return "CredentialSecret" + fields.keySet() + "<redacted>";
    }
}
