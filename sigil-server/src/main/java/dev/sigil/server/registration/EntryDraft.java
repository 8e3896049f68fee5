package dev.sigil.server.registration;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The caller-supplied part of a registration entry: what it asks the server to store. Always valid
 * once built; the constructor throws {@link RegistrationException} with reason INVALID_ARGUMENT
 * naming the first bad value.
 *
 * <p>Normal form, applied when built: selectors and federated trust domains are deduplicated and
 * sorted; DNS names are lower-cased and deduplicated in their given order (the first is the
 * certificate's common name); TTLs and the expiry are truncated to milliseconds. A TTL of zero means
 * "the server's default".
 */
public record EntryDraft(
        SpiffeId spiffeId,
        SpiffeId parentId,
        List<Selector> selectors,
        Duration x509SvidTtl,
        Duration jwtSvidTtl,
        List<String> dnsNames,
        String owner,
        Optional<Instant> expiresAt,
        boolean admin,
        String hint,
        List<TrustDomain> federatesWith) {
    public static final int MAX_SELECTORS = 128;
    public static final int MAX_DNS_NAMES = 64;
    public static final int MAX_OWNER_LENGTH = 256;
    public static final int MAX_HINT_LENGTH = 1024;
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    public EntryDraft {
        require(spiffeId, "spiffe id");
        require(parentId, "parent id");
        if (spiffeId.path().isEmpty()) {
            throw RegistrationException.invalid("spiffe id '" + spiffeId + "' has no path; an entry's spiffe id must name a workload "
                    + "such as '" + spiffeId + "/web'");
        }
        require(selectors, "selectors");
        if (selectors.isEmpty()) {
            throw RegistrationException.invalid("entry for '" + spiffeId + "' has no selectors; at least one is required");
        }
        selectors = List.copyOf(new TreeSet<>(selectors));
        if (selectors.size() > MAX_SELECTORS) {
            throw RegistrationException.invalid("entry for '" + spiffeId + "' has " + selectors.size()
                    + " selectors; at most " + MAX_SELECTORS + " are allowed");
        }
        x509SvidTtl = ttl(x509SvidTtl, "x509 svid ttl");
        jwtSvidTtl = ttl(jwtSvidTtl, "jwt svid ttl");
        dnsNames = dnsNames(require(dnsNames, "dns names"));
        owner = text(require(owner, "owner"), "owner", MAX_OWNER_LENGTH);
        if (owner.isBlank()) {
            throw RegistrationException.invalid("owner is blank; every entry needs the team or person accountable for it");
        }
        expiresAt = require(expiresAt, "expires at").map(t -> t.truncatedTo(ChronoUnit.MILLIS));
        hint = text(require(hint, "hint"), "hint", MAX_HINT_LENGTH);
        TreeSet<TrustDomain> domains = new TreeSet<>(Comparator.comparing(TrustDomain::name));
        domains.addAll(require(federatesWith, "federates with"));
        federatesWith = List.copyOf(domains);
    }

    /** A draft with the required parts; TTLs default, no DNS names, no expiry, not admin, no hint, no federation. */
    public static EntryDraft of(SpiffeId spiffeId, SpiffeId parentId, List<Selector> selectors, String owner) {
        return new EntryDraft(spiffeId, parentId, selectors, Duration.ZERO, Duration.ZERO, List.of(), owner,
                Optional.empty(), false, "", List.of());
    }

    public EntryDraft withSpiffeId(SpiffeId value) {
        return new EntryDraft(value, parentId, selectors, x509SvidTtl, jwtSvidTtl, dnsNames, owner, expiresAt, admin, hint, federatesWith);
    }

    public EntryDraft withParentId(SpiffeId value) {
        return new EntryDraft(spiffeId, value, selectors, x509SvidTtl, jwtSvidTtl, dnsNames, owner, expiresAt, admin, hint, federatesWith);
    }

    public EntryDraft withSelectors(List<Selector> value) {
        return new EntryDraft(spiffeId, parentId, value, x509SvidTtl, jwtSvidTtl, dnsNames, owner, expiresAt, admin, hint, federatesWith);
    }

    public EntryDraft withX509SvidTtl(Duration value) {
        return new EntryDraft(spiffeId, parentId, selectors, value, jwtSvidTtl, dnsNames, owner, expiresAt, admin, hint, federatesWith);
    }

    public EntryDraft withJwtSvidTtl(Duration value) {
        return new EntryDraft(spiffeId, parentId, selectors, x509SvidTtl, value, dnsNames, owner, expiresAt, admin, hint, federatesWith);
    }

    public EntryDraft withDnsNames(List<String> value) {
        return new EntryDraft(spiffeId, parentId, selectors, x509SvidTtl, jwtSvidTtl, value, owner, expiresAt, admin, hint, federatesWith);
    }

    public EntryDraft withOwner(String value) {
        return new EntryDraft(spiffeId, parentId, selectors, x509SvidTtl, jwtSvidTtl, dnsNames, value, expiresAt, admin, hint, federatesWith);
    }

    public EntryDraft withExpiresAt(Optional<Instant> value) {
        return new EntryDraft(spiffeId, parentId, selectors, x509SvidTtl, jwtSvidTtl, dnsNames, owner, value, admin, hint, federatesWith);
    }

    public EntryDraft withAdmin(boolean value) {
        return new EntryDraft(spiffeId, parentId, selectors, x509SvidTtl, jwtSvidTtl, dnsNames, owner, expiresAt, value, hint, federatesWith);
    }

    public EntryDraft withHint(String value) {
        return new EntryDraft(spiffeId, parentId, selectors, x509SvidTtl, jwtSvidTtl, dnsNames, owner, expiresAt, admin, value, federatesWith);
    }

    public EntryDraft withFederatesWith(List<TrustDomain> value) {
        return new EntryDraft(spiffeId, parentId, selectors, x509SvidTtl, jwtSvidTtl, dnsNames, owner, expiresAt, admin, hint, value);
    }

    private static <T> T require(T value, String what) {
        if (value == null) {
            throw RegistrationException.invalid(what + " is missing");
        }
        return value;
    }

    private static Duration ttl(Duration ttl, String what) {
        require(ttl, what);
        if (ttl.isNegative()) {
            throw RegistrationException.invalid(what + " is " + ttl + "; it must be zero (the server default) or positive");
        }
        return ttl.truncatedTo(ChronoUnit.MILLIS);
    }

    private static String text(String value, String what, int maxLength) {
        if (value.length() > maxLength) {
            throw RegistrationException.invalid(what + " is " + value.length() + " characters long; at most " + maxLength + " are allowed");
        }
        for (int i = 0; i < value.length(); i++) {
            if (Character.isISOControl(value.charAt(i))) {
                throw RegistrationException.invalid(what + " has a control character at position " + i + "; none are allowed");
            }
        }
        return value;
    }

    /** RFC 1123 host names, optionally with a leading '*.' wildcard label; lower-cased, deduplicated, order kept. */
    private static List<String> dnsNames(List<String> names) {
        LinkedHashSet<String> normal = new LinkedHashSet<>();
        for (String name : names) {
            require(name, "dns name");
            String lower = name.toLowerCase(Locale.ROOT);
            String host = lower.startsWith("*.") ? lower.substring(2) : lower;
            if (lower.isEmpty() || lower.length() > 253 || host.isEmpty()) {
                throw RegistrationException.invalid("dns name '" + name + "' must be 1 to 253 characters long");
            }
            for (String label : host.split("\\.", -1)) {
                if (!DNS_LABEL.matcher(label).matches()) {
                    throw RegistrationException.invalid("dns name '" + name + "' has the invalid label '" + label + "'; labels are "
                            + "1 to 63 characters of a-z, 0-9 and '-', not starting or ending with '-' (only a leading '*.' wildcard is allowed)");
                }
            }
            normal.add(lower);
        }
        if (normal.size() > MAX_DNS_NAMES) {
            throw RegistrationException.invalid("entry has " + normal.size() + " dns names; at most " + MAX_DNS_NAMES + " are allowed");
        }
        return List.copyOf(normal);
    }
}
