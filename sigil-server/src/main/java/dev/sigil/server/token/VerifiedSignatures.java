package dev.sigil.server.token;

import java.security.PublicKey;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The compact JWS strings whose signature (and, for this trust domain's tokens, canonical form) one
 * {@link JwtSvidVerifier} has already verified, with the key that verified each. A workload presents the
 * same JWT-SVID for every exchange until its agent rotates it, so the signature check, the largest cost
 * of an exchange after TLS, runs once per token instead of once per request.
 *
 * <p>Security contract: {@link #verifiedBefore} is true only for exactly the same string (header,
 * claims and signature byte for byte) that verified with a key equal to the one the current bundle holds
 * under the token's {@code kid}: a key removed from the bundle is refused before this is asked, and a
 * key replaced under the same {@code kid} misses and verifies again. A token remembered without the
 * canonical-form check (a federated trust domain's) does not count for a check that needs it. Only the
 * signature is remembered: times, subject, audience, type, claims and revocation are checked on every
 * request by the caller. Only tokens that verified are remembered, so forgeries cannot fill it; it holds
 * at most {@value #MAX_ENTRIES} tokens of at most {@value #MAX_TOKEN_CHARS} characters and starts over
 * when full (bounded memory; a miss only costs a verification).
 */
final class VerifiedSignatures {
    static final int MAX_ENTRIES = 4_096;
    static final int MAX_TOKEN_CHARS = 2_048;

    private record Checked(PublicKey key, boolean canonical) {
    }

    private final ConcurrentHashMap<String, Checked> checked = new ConcurrentHashMap<>();

    /** Whether {@code compact} verified before with {@code key}, and passed the canonical-form check if {@code canonical}. */
    boolean verifiedBefore(String compact, PublicKey key, boolean canonical) {
        Checked seen = checked.get(compact);
        return seen != null && (seen.canonical() || !canonical) && (seen.key() == key || seen.key().equals(key));
    }

    /** Records that {@code compact} verified with {@code key} (and passed the canonical-form check when {@code canonical}). */
    void remember(String compact, PublicKey key, boolean canonical) {
        if (compact.length() > MAX_TOKEN_CHARS) {
            return;
        }
        if (checked.size() >= MAX_ENTRIES) {
            checked.clear();
        }
        checked.put(compact, new Checked(key, canonical));
    }

    int size() {
        return checked.size();
    }
}
