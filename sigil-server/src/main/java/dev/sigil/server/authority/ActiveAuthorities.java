package dev.sigil.server.authority;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.JWK;
import dev.sigil.core.bundle.JwtAuthority;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.crypto.Pem;
import dev.sigil.server.keys.KeyHandle;
import dev.sigil.server.keys.KeyManager;
import dev.sigil.server.keys.KeyManagerException;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.text.ParseException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A consistent snapshot of what the journal says at one moment: the signing X.509 CA, JWT key and WIT key, and
 * the bundle of every authority not yet pruned. Immutable; the authority swaps whole snapshots.
 *
 * @param version identifies the journal state the snapshot was built from (sequence and states)
 */
record ActiveAuthorities(Optional<X509Ca> x509, Optional<JwtKey> jwt, Optional<JwtKey> wit, SpiffeBundle bundle, String version) {

    static String versionOf(List<AuthorityRecord> current, long sequence) {
        StringBuilder version = new StringBuilder().append(sequence);
        current.forEach(record -> version.append(';').append(record.authorityId()).append('=').append(record.state().storedName()));
        return version.toString();
    }

    /** The snapshot for server {@code owner}: it signs with its own active authorities; the bundle has everyone's. */
    static ActiveAuthorities build(List<AuthorityRecord> current, long sequence, KeyManager keys, AuthorityConfig config, String owner) {
        Optional<X509Ca> x509 = Optional.empty();
        Optional<JwtKey> jwt = Optional.empty();
        Optional<JwtKey> wit = Optional.empty();
        List<X509Certificate> roots = new ArrayList<>();
        List<JwtAuthority> jwtAuthorities = new ArrayList<>();
        List<JwtAuthority> witAuthorities = new ArrayList<>();
        for (AuthorityRecord record : current) {
            if (record.kind() == AuthorityKind.X509) {
                X509Certificate certificate = certificateOf(record);
                List<X509Certificate> upstream = record.upstreamChainPem()
                        .map(pem -> Pem.parseCertificates(pem, "upstream chain of x509 authority " + record.authorityId()))
                        .orElse(List.of());
                X509Certificate root = upstream.isEmpty() ? certificate : upstream.get(upstream.size() - 1);
                if (roots.stream().noneMatch(root::equals)) {
                    roots.add(root);
                }
                if (record.state() == AuthorityState.ACTIVE && record.owner().equals(owner)) {
                    List<X509Certificate> tail = new ArrayList<>();
                    if (!upstream.isEmpty()) {
                        tail.add(certificate);
                        tail.addAll(upstream.subList(0, upstream.size() - 1));
                    }
                    x509 = Optional.of(new X509Ca(record.authorityId(), certificate, tail, requireKey(record, keys)));
                }
            } else if (record.kind() == AuthorityKind.JWT) {
                jwtAuthorities.add(new JwtAuthority(record.authorityId(), publicKeyOf(record)));
                if (record.state() == AuthorityState.ACTIVE && record.owner().equals(owner)) {
                    jwt = Optional.of(new JwtKey(record.authorityId(), requireKey(record, keys), record.notAfter(), config.jwtIssuer()));
                }
            } else {
                witAuthorities.add(new JwtAuthority(record.authorityId(), publicKeyOf(record)));
                if (record.state() == AuthorityState.ACTIVE && record.owner().equals(owner)) {
                    wit = Optional.of(new JwtKey(record.authorityId(), requireKey(record, keys), record.notAfter(), config.jwtIssuer()));
                }
            }
        }
        SpiffeBundle bundle = new SpiffeBundle(config.trustDomain(), roots, jwtAuthorities, witAuthorities, sequence,
                Optional.of(config.bundleRefreshHint()));
        return new ActiveAuthorities(x509, jwt, wit, bundle, versionOf(current, sequence));
    }

    /**
     * Checks that the key manager holds the key of every authority of {@code owner} still valid at
     * {@code now}, and that each key is the one the journal recorded.
     *
     * @throws AuthorityException naming the authority, the key and where keys live, when one is missing,
     *                            unreadable or different
     */
    static void verifyKeys(List<AuthorityRecord> current, KeyManager keys, Instant now, String owner) {
        for (AuthorityRecord record : current) {
            if (!record.expiredAt(now) && record.owner().equals(owner)) {
                requireKey(record, keys);
            }
        }
    }

    /** Whether the key manager holds {@code record}'s key, the very one the journal recorded. */
    static boolean holdsKey(AuthorityRecord record, KeyManager keys) {
        try {
            requireKey(record, keys);
            return true;
        } catch (AuthorityException e) {
            return false;
        }
    }

    private static KeyHandle requireKey(AuthorityRecord record, KeyManager keys) {
        String what = record.state().storedName() + " " + record.kind().storedName() + " authority " + record.authorityId()
                + " (valid until " + record.notAfter() + ")";
        String advice = "; refusing to start rather than replace it with a new authority that relying parties do not trust."
                + " Restore the key from a backup of the key directory, or point the server at the data directory it was created with";
        KeyHandle key;
        try {
            key = keys.find(record.keyId()).orElseThrow(() -> new AuthorityException("the journal's " + what + " uses key '"
                    + record.keyId() + "', which the " + keys.describe() + " does not have" + advice));
        } catch (KeyManagerException e) {
            throw new AuthorityException("the journal's " + what + " uses key '" + record.keyId() + "', which the "
                    + keys.describe() + " cannot read: " + e.getMessage() + advice, e);
        }
        PublicKey recorded = record.kind() == AuthorityKind.X509 ? certificateOf(record).getPublicKey() : publicKeyOf(record);
        if (!Arrays.equals(recorded.getEncoded(), key.publicKey().getEncoded())) {
            throw new AuthorityException("key '" + record.keyId() + "' in the " + keys.describe()
                    + " is not the key the journal recorded for its " + what + advice);
        }
        return key;
    }

    private static X509Certificate certificateOf(AuthorityRecord record) {
        return Pem.parseCertificates(record.certificatePem().orElseThrow(), "certificate of x509 authority " + record.authorityId()).get(0);
    }

    private static PublicKey publicKeyOf(AuthorityRecord record) {
        try {
            JWK jwk = JWK.parse(record.publicKeyJwk().orElseThrow());
            return jwk instanceof com.nimbusds.jose.jwk.ECKey ec ? ec.toECPublicKey() : jwk.toRSAKey().toRSAPublicKey();
        } catch (ParseException | JOSEException e) {
            throw new AuthorityException("the journal's " + record.kind().storedName() + " authority " + record.authorityId() + " has an unreadable public key: "
                    + e.getMessage(), e);
        }
    }
}
