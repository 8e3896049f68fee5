/**
 * SPIFFE trust bundles ({@link dev.sigil.core.bundle.SpiffeBundle}) and their JWKS document format,
 * per the SPIFFE Trust Domain and Bundle specification.
 */
package dev.sigil.core.bundle;
