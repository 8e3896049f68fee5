package dev.sigil.cli;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.core.time.Durations;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Picocli converters that validate values as they are parsed, with the domain's own messages. */
final class Converters {
    private Converters() {
    }

    static final class SpiffeIdConverter implements ITypeConverter<SpiffeId> {
        @Override
        public SpiffeId convert(String value) {
            try {
                return SpiffeId.parse(value);
            } catch (RuntimeException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    static final class TrustDomainConverter implements ITypeConverter<TrustDomain> {
        @Override
        public TrustDomain convert(String value) {
            try {
                return TrustDomain.parse(value);
            } catch (RuntimeException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                Duration duration = Durations.parse(value);
                if (duration.isZero()) {
                    throw new TypeConversionException("duration '" + value + "' is zero; it must be longer than zero");
                }
                return duration;
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    static final class InstantConverter implements ITypeConverter<Instant> {
        @Override
        public Instant convert(String value) {
            try {
                return OffsetDateTime.parse(value).toInstant();
            } catch (DateTimeParseException e) {
                throw new TypeConversionException("'" + value + "' is not an rfc 3339 time; use for example 2026-12-31T23:59:59Z");
            }
        }
    }

    /** {@code type:value}, split at the first colon (the value may contain more colons: {@code unix:uid:1000}). */
    record Selector(String type, String value) {
    }

    /**
     * Checks {@code type:value} and, for the selector types the built-in attestors produce, the value's
     * form: a selector no attestor can ever produce would make an entry that silently matches nothing.
     * Types of other attestors (plugins) pass with the general check only.
     */
    static final class SelectorConverter implements ITypeConverter<Selector> {
        /** The built-in types and, per key, the form of the value and an example. */
        private static final java.util.Map<String, java.util.Map<String, String[]>> FORMS = java.util.Map.of(
                "unix", java.util.Map.of(
                        "uid", new String[] {"[0-9]{1,10}", "unix:uid:1000"},
                        "gid", new String[] {"[0-9]{1,10}", "unix:gid:1000"},
                        "user", new String[] {"[^\\s:]+", "unix:user:www-data"},
                        "group", new String[] {"[^\\s:]+", "unix:group:www-data"},
                        "path", new String[] {"/.*", "unix:path:/usr/bin/app"},
                        "sha256", new String[] {"[0-9a-f]{64}", "unix:sha256:<64 lower-case hex digits>"}),
                "cgroup", java.util.Map.of(
                        "path", new String[] {"/.*", "cgroup:path:/system.slice/app.service"},
                        "container_id", new String[] {"[0-9a-f]{12,64}", "cgroup:container_id:<hex id>"}),
                "join_token", java.util.Map.of(
                        "id", new String[] {"[0-9a-f]+", "join_token:id:<token id>"}));

        @Override
        public Selector convert(String text) {
            dev.sigil.core.selector.Selector parsed;
            try {
                parsed = dev.sigil.core.selector.Selector.parse(text);
            } catch (RuntimeException e) {
                throw new TypeConversionException(e.getMessage());
            }
            String quoted = dev.sigil.core.Printable.clip(text);
            for (var type : FORMS.entrySet()) {
                if (type.getValue().containsKey(parsed.type())) {
                    throw new TypeConversionException("selector '" + quoted + "' has no attestor type; did you mean '"
                            + type.getKey() + ":" + text + "'? Valid forms: " + forms(type.getKey()));
                }
            }
            var keys = FORMS.get(parsed.type());
            if (keys != null) {
                int colon = parsed.value().indexOf(':');
                String key = colon < 0 ? parsed.value() : parsed.value().substring(0, colon);
                String[] form = keys.get(key);
                if (colon <= 0 || form == null) {
                    throw new TypeConversionException("selector '" + quoted + "' is not a " + parsed.type()
                            + " selector; valid forms: " + forms(parsed.type()));
                }
                if (!parsed.value().substring(colon + 1).matches(form[0])) {
                    throw new TypeConversionException("selector '" + quoted + "' has an invalid " + parsed.type() + ":" + key
                            + " value; expected for example " + form[1]);
                }
            }
            return new Selector(parsed.type(), parsed.value());
        }

        private static String forms(String type) {
            return FORMS.get(type).values().stream().map(form -> form[1]).sorted().collect(java.util.stream.Collectors.joining(", "));
        }
    }
}
