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

    static final class SelectorConverter implements ITypeConverter<Selector> {
        @Override
        public Selector convert(String text) {
            int colon = text.indexOf(':');
            if (colon <= 0 || colon == text.length() - 1) {
                throw new TypeConversionException("selector '" + text + "' must be type:value, for example unix:uid:1000");
            }
            return new Selector(text.substring(0, colon), text.substring(colon + 1));
        }
    }
}
