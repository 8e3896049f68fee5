package dev.sigil.server.credential.postgresql;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.credential.LeaseId;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The login role of one lease: {@code <prefix><holder hint>_<lease id>}, at most 63 bytes (PostgreSQL's
 * identifier limit, beyond which it would silently truncate), only {@code [a-z0-9_]}.
 *
 * <p>The hint is the tail of the holder's SPIFFE ID path ({@code /billing/report-job} becomes
 * {@code billing_report_job}), lower-cased, every other character mapped to {@code _}, cut from the
 * front to what fits: it helps an operator reading {@code pg_stat_activity}, but identifies nothing on
 * its own. The lease id at the end does: {@link #parse} recovers it from the name alone, which is how
 * revocation and listing find a lease's role with no other state. Names without the prefix and that
 * suffix are never this broker's.
 */
record RoleName(String value, LeaseId lease) {
    private static final int SUFFIX_LENGTH = 1 + LeaseId.LENGTH;
    private static final Pattern SUFFIX = Pattern.compile("_([a-z2-7]{" + LeaseId.LENGTH + "})$");
    private static final Pattern HINT = Pattern.compile("[a-z0-9_]*");

    RoleName {
        if (value.length() > PostgresBrokerSettings.MAX_IDENTIFIER_BYTES || !value.endsWith("_" + lease.value())
                || !HINT.matcher(value).matches()) {
            throw new IllegalArgumentException("role name '" + value + "' is not a lease role name for lease " + lease);
        }
    }

    /** The role name for a lease of {@code holder}. */
    static RoleName of(String prefix, SpiffeId holder, LeaseId lease) {
        int room = PostgresBrokerSettings.MAX_IDENTIFIER_BYTES - prefix.length() - SUFFIX_LENGTH;
        return new RoleName(prefix + hint(holder, room) + "_" + lease.value(), lease);
    }

    /** The lease whose role this is, or empty if {@code name} is not a role this broker (with this prefix) creates. */
    static Optional<RoleName> parse(String prefix, String name) {
        if (name == null || !name.startsWith(prefix) || name.length() > PostgresBrokerSettings.MAX_IDENTIFIER_BYTES
                || name.length() < prefix.length() + SUFFIX_LENGTH || !HINT.matcher(name).matches()) {
            return Optional.empty();
        }
        Matcher suffix = SUFFIX.matcher(name);
        return suffix.find() ? Optional.of(new RoleName(name, new LeaseId(suffix.group(1)))) : Optional.empty();
    }

    /** What every role of {@code lease} ends with, whatever hint it was created with. */
    static String suffix(LeaseId lease) {
        return "_" + lease.value();
    }

    static String hint(SpiffeId holder, int room) {
        // every run of characters outside [a-z0-9] becomes one '_', none at either end (one pass, no regex:
        // this runs on every grant)
        String lower = holder.path().toLowerCase(Locale.ROOT);
        StringBuilder path = new StringBuilder(lower.length());
        boolean gap = false;
        for (int i = 0; i < lower.length(); i++) {
            char c = lower.charAt(i);
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
                if (gap && !path.isEmpty()) {
                    path.append('_');
                }
                path.append(c);
                gap = false;
            } else {
                gap = true;
            }
        }
        if (path.length() <= room) {
            return path.toString();
        }
        int from = path.length() - room;
        while (from < path.length() && path.charAt(from) == '_') {
            from++;
        }
        return path.substring(from);
    }

    @Override
    public String toString() {
        return value;
    }
}
