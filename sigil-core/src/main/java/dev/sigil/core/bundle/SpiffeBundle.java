package dev.sigil.core.bundle;

import dev.sigil.core.crypto.Pem;
import dev.sigil.core.spiffeid.TrustDomain;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The trust bundle of one trust domain: the X.509 authorities (CA certificates) that X.509-SVIDs chain
 * to, the public keys that JWT-SVIDs are signed with and those that WIT-SVIDs (WIMSE workload identity
 * tokens) are signed with, plus the bundle's sequence number and refresh hint. Immutable.
 *
 * <p>Serialized per the SPIFFE Trust Domain and Bundle specification as a JWKS: one key per
 * authority with {@code use} {@code x509-svid} (and the certificate in {@code x5c}), {@code jwt-svid} or
 * {@code wit-svid} (with its {@code kid}); top-level {@code spiffe_sequence} and {@code spiffe_refresh_hint}
 * in seconds. A key id names one key of one use only: a WIT-SVID key never verifies a JWT-SVID, nor the
 * other way round.
 *
 * @param witAuthorities the keys WIT-SVIDs are signed with (empty for a trust domain that issues none)
 * @param sequence       increases whenever the set of authorities changes
 * @param refreshHint    how often consumers should re-fetch the bundle; empty when not advertised
 */
public record SpiffeBundle(
        TrustDomain trustDomain,
        List<X509Certificate> x509Authorities,
        List<JwtAuthority> jwtAuthorities,
        List<JwtAuthority> witAuthorities,
        long sequence,
        Optional<Duration> refreshHint) {

    /** A bundle without WIT-SVID keys. */
    public SpiffeBundle(TrustDomain trustDomain, List<X509Certificate> x509Authorities, List<JwtAuthority> jwtAuthorities, long sequence,
                        Optional<Duration> refreshHint) {
        this(trustDomain, x509Authorities, jwtAuthorities, List.of(), sequence, refreshHint);
    }

    public SpiffeBundle {
        Objects.requireNonNull(trustDomain, "trustDomain");
        x509Authorities = List.copyOf(x509Authorities);
        jwtAuthorities = List.copyOf(jwtAuthorities);
        witAuthorities = List.copyOf(witAuthorities);
        Objects.requireNonNull(refreshHint, "refreshHint");
        if (sequence < 0) {
            throw new IllegalArgumentException("bundle sequence is " + sequence + "; it must be zero or more");
        }
        if (refreshHint.isPresent() && (refreshHint.get().isNegative() || refreshHint.get().toSeconds() < 1)) {
            throw new IllegalArgumentException("bundle refresh hint is " + refreshHint.get() + "; it must be at least one second");
        }
        Set<String> keyIds = new HashSet<>();
        for (JwtAuthority authority : jwtAuthorities) {
            if (!keyIds.add(authority.keyId())) {
                throw new IllegalArgumentException("jwt authority key id '" + authority.keyId() + "' appears twice; key ids must be unique");
            }
        }
        for (JwtAuthority authority : witAuthorities) {
            if (!keyIds.add(authority.keyId())) {
                throw new IllegalArgumentException("wit authority key id '" + authority.keyId()
                        + "' appears twice or is also a jwt-svid key id; key ids must be unique across jwt-svid and wit-svid keys");
            }
        }
    }

    /** The WIT-SVID authority whose key id is {@code keyId}, if the bundle has one (never a JWT-SVID key). */
    public Optional<JwtAuthority> witAuthority(String keyId) {
        return witAuthorities.stream().filter(authority -> authority.keyId().equals(keyId)).findFirst();
    }

    /**
     * The WIT bundle of the Workload API's FetchWITBundles: a plain JWKS of the WIT-SVID keys only, each
     * with {@code kid}, {@code alg} and {@code use} {@code wit-svid}.
     */
    public String witAuthoritiesJwks() {
        return BundleJwks.writeWit(this);
    }

    /** The JWT authority whose key id is {@code keyId}, if the bundle has one. */
    public Optional<JwtAuthority> jwtAuthority(String keyId) {
        return jwtAuthorities.stream().filter(authority -> authority.keyId().equals(keyId)).findFirst();
    }

    /** The SPIFFE bundle document (a JWKS) as served by the bundle endpoint. */
    public String toJson() {
        return BundleJwks.write(this);
    }

    /**
     * A plain JWKS of the JWT authorities only ({@code use} {@code sig}, with {@code kid} and {@code alg}),
     * for the OpenID Connect {@code jwks_uri} that relying parties outside SPIFFE read.
     */
    public String jwtAuthoritiesJwks() {
        return BundleJwks.writeOidc(this);
    }

    /** The X.509 authorities as concatenated PEM {@code CERTIFICATE} blocks. */
    public String x509AuthoritiesPem() {
        return Pem.encodeCertificates(x509Authorities);
    }

    /**
     * Parses a SPIFFE bundle document strictly: it must be a JSON object with a {@code keys} array;
     * {@code spiffe_sequence} and {@code spiffe_refresh_hint} when present must be non-negative
     * integers; every key must have a {@code use}; an {@code x509-svid} key must carry exactly one
     * certificate matching its public parameters; a {@code jwt-svid} key must have a unique
     * {@code kid}. Keys with an unknown {@code use} are skipped, as the specification requires.
     *
     * @throws BundleFormatException naming the offending member
     */
    public static SpiffeBundle parse(TrustDomain trustDomain, String json) {
        return BundleJwks.read(trustDomain, json);
    }

    @Override
    public String toString() {
        return "SpiffeBundle[" + trustDomain + " sequence=" + sequence + " x509=" + x509Authorities.size()
                + " jwt=" + jwtAuthorities.size() + " wit=" + witAuthorities.size() + "]";
    }
}
