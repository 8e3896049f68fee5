package dev.sigil.server.agent.attestor.jwt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import dev.sigil.core.Printable;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The public keys one issuer signs its tokens with: a static JWKS file, or the JWKS its OIDC discovery
 * document names ({@code <issuer>/.well-known/openid-configuration} → {@code jwks_uri}), both over HTTPS.
 *
 * <p>Guarantees of the discovered form: keys are at most {@link #MAX_AGE} old, else fetched again
 * before use; a token naming a {@code kid} not in the cached set triggers one refetch, at most once per
 * {@link #MIN_REFETCH_INTERVAL} whatever the tokens say (so key rotation is picked up at once, and a
 * flood of made-up kids costs the issuer one request per interval); when the keys cannot be fetched and
 * the cache is older than {@link #MAX_AGE} (or empty), lookups fail closed with {@link Lookup.Unavailable}.
 * Only public keys are ever used. Thread-safe (one fetch at a time).
 */
abstract sealed class IssuerKeys {
    static final Duration MAX_AGE = Duration.ofMinutes(5);
    static final Duration MIN_REFETCH_INTERVAL = Duration.ofSeconds(10);
    static final int MAX_KEYS = 100;

    /** What a lookup by {@code kid} found. */
    sealed interface Lookup {
        /** Keys to try: the one with the kid, or every key when the token names none. */
        record Found(List<JWK> keys) implements Lookup {
            public Found {
                keys = List.copyOf(keys);
            }
        }

        /** The issuer's current keys hold no key with that kid (a rotated-away or made-up key). */
        record NoSuchKey(String kid, Instant fetchedAt) implements Lookup {
        }

        /** The keys could not be obtained; attestation fails closed. */
        record Unavailable(String reason) implements Lookup {
        }
    }

    /** The keys for a token naming {@code kid} (empty when its header has none). */
    abstract Lookup lookup(Optional<String> kid);

    static IssuerKeys fromFile(Path jwksFile) {
        String text;
        try {
            text = Files.readString(jwksFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read jwks file " + jwksFile + ": " + Printable.reason(e), e);
        }
        try {
            return new Static(publicKeys(JWKSet.parse(text)), jwksFile);
        } catch (ParseException | IllegalArgumentException e) {
            throw new IllegalArgumentException("jwks file " + jwksFile + " is not a usable json web key set: " + Printable.reason(e), e);
        }
    }

    static IssuerKeys discovered(String issuer, HttpsFetcher fetcher, Clock clock) {
        return new Discovered(issuer, fetcher, clock);
    }

    /** The public keys of {@code set}; refuses an empty or oversized set. */
    static List<JWK> publicKeys(JWKSet set) {
        List<JWK> keys = set.toPublicJWKSet().getKeys().stream()
                .filter(key -> key.getKeyUse() == null || key.getKeyUse().identifier().equals("sig"))
                .toList();
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("the key set holds no public signing key");
        }
        if (keys.size() > MAX_KEYS) {
            throw new IllegalArgumentException("the key set holds " + keys.size() + " keys; at most " + MAX_KEYS + " are accepted");
        }
        return keys;
    }

    static Lookup select(List<JWK> keys, Optional<String> kid, Instant fetchedAt) {
        if (kid.isEmpty()) {
            return new Lookup.Found(keys);
        }
        List<JWK> matching = keys.stream().filter(key -> kid.get().equals(key.getKeyID())).toList();
        return matching.isEmpty() ? new Lookup.NoSuchKey(kid.get(), fetchedAt) : new Lookup.Found(matching);
    }

    /** A JWKS file read once at start (an operator replaces it and restarts to rotate). */
    static final class Static extends IssuerKeys {
        private final List<JWK> keys;
        private final Path file;

        Static(List<JWK> keys, Path file) {
            this.keys = List.copyOf(keys);
            this.file = file;
        }

        @Override
        Lookup lookup(Optional<String> kid) {
            return select(keys, kid, Instant.EPOCH);
        }

        @Override
        public String toString() {
            return "jwks file " + file;
        }
    }

    /** Keys found through OIDC discovery, cached and refetched as the class comment says. */
    static final class Discovered extends IssuerKeys {
        private static final ObjectMapper JSON = new ObjectMapper();

        private final String issuer;
        private final URI discovery;
        private final HttpsFetcher fetcher;
        private final Clock clock;
        private List<JWK> keys = List.of();
        private Instant fetchedAt = Instant.MIN;
        private Instant attemptedAt = Instant.MIN;
        private String lastFailure = "";

        Discovered(String issuer, HttpsFetcher fetcher, Clock clock) {
            this.issuer = Objects.requireNonNull(issuer, "issuer");
            this.discovery = URI.create((issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer)
                    + "/.well-known/openid-configuration");
            this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
            this.clock = Objects.requireNonNull(clock, "clock");
        }

        @Override
        synchronized Lookup lookup(Optional<String> kid) {
            Instant now = clock.instant();
            boolean stale = keys.isEmpty() || !now.isBefore(fetchedAt.plus(MAX_AGE));
            if (stale || (kid.isPresent() && keys.stream().noneMatch(key -> kid.get().equals(key.getKeyID())))) {
                refresh(now);
            }
            if (keys.isEmpty() || !now.isBefore(fetchedAt.plus(MAX_AGE))) {
                return new Lookup.Unavailable("cannot get the signing keys of issuer '" + Printable.clip(issuer) + "': " + lastFailure
                        + "; attestation fails closed until they can be fetched");
            }
            return select(keys, kid, fetchedAt);
        }

        /** Fetches discovery and the JWKS unless the last attempt was under {@link #MIN_REFETCH_INTERVAL} ago. */
        private void refresh(Instant now) {
            if (now.isBefore(attemptedAt.plus(MIN_REFETCH_INTERVAL))) {
                return;
            }
            attemptedAt = now;
            try {
                JsonNode metadata = JSON.readTree(fetcher.get(discovery));
                String advertised = metadata.path("issuer").asText("");
                if (!issuer.equals(advertised)) {
                    throw new IllegalArgumentException("the discovery document at " + discovery + " names issuer '"
                            + Printable.clip(advertised) + "'; it must be exactly '" + Printable.clip(issuer) + "'");
                }
                String jwksUri = metadata.path("jwks_uri").asText("");
                if (jwksUri.isEmpty()) {
                    throw new IllegalArgumentException("the discovery document at " + discovery + " has no jwks_uri");
                }
                URI uri = URI.create(jwksUri);
                keys = publicKeys(JWKSet.parse(new String(fetcher.get(uri), StandardCharsets.UTF_8)));
                fetchedAt = now;
                lastFailure = "";
            } catch (HttpsFetcher.FetchException e) {
                lastFailure = e.getMessage();
            } catch (IOException | ParseException | RuntimeException e) {
                lastFailure = "unusable answer: " + Printable.reason(e);
            }
        }

        @Override
        public String toString() {
            return "discovered keys of " + issuer;
        }
    }
}
