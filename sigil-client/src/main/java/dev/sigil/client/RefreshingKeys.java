package dev.sigil.client;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import java.io.IOException;
import java.net.URI;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The verification keys of a verifier: the keys it holds (a fixed set, or the last fetch), fetched again
 * from {@code source} when a {@code kid} it does not hold appears, at most every {@link #REFETCH}, so a
 * rotated-in key is found within seconds while a stream of unknown {@code kid}s cannot make it fetch more
 * often. {@code select} keeps, of a fetched document, only the keys this verifier may use. Thread-safe.
 */
final class RefreshingKeys {
    static final Duration REFETCH = Duration.ofSeconds(10);

    private final Optional<URI> source;
    private final DocumentFetcher fetcher;
    private final Clock clock;
    private final UnaryOperator<JWKSet> select;
    private volatile JWKSet keys;
    private volatile Instant fetchedAt = Instant.MIN;

    /** @param initial the keys held before any fetch, or null; without a {@code source} they are all there is */
    RefreshingKeys(Optional<URI> source, DocumentFetcher fetcher, Clock clock, UnaryOperator<JWKSet> select, JWKSet initial) {
        this.source = source;
        this.fetcher = fetcher;
        this.clock = clock;
        this.select = select;
        this.keys = initial;
    }

    /**
     * The key named {@code kid}, or empty when neither the keys held nor a fetch allowed now has it.
     *
     * @throws IOException    when the fetch failed
     * @throws ParseException when the fetched document is not a JWKS
     */
    Optional<JWK> find(String kid) throws IOException, ParseException {
        JWKSet current = keys;
        JWK key = current == null ? null : current.getKeyByKeyId(kid);
        if (key == null && source.isPresent() && fetchedAt.plus(REFETCH).isBefore(clock.instant())) {
            synchronized (this) {
                current = select.apply(JWKSet.parse(fetcher.get(source.get())));
                keys = current;
                fetchedAt = clock.instant();
            }
            key = current.getKeyByKeyId(kid);
        }
        return Optional.ofNullable(key);
    }
}
