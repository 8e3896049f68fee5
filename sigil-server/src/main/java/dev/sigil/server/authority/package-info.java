/**
 * The trust domain's signing authority: X.509 CA and JWT signing keys, their rotation journal, and
 * SVID minting.
 *
 * <p>{@link dev.sigil.server.authority.Authority} is the facade. It is split by responsibility:
 * {@code X509Ca} and {@code JwtKey} sign, {@code CsrVerifier} checks proof of possession,
 * {@code Rotator} decides when authorities change state (on an injected clock), {@code Journal}
 * persists the history (migration V3), {@code AuthorityFactory} creates new authorities and
 * {@code ActiveAuthorities} is the immutable snapshot minting reads. Private keys stay in the
 * {@link dev.sigil.server.keys.KeyManager}.
 */
package dev.sigil.server.authority;
