/**
 * What attestation says about a SPIFFE ID (selectors, trust level, when its node was attested), as the
 * grant paths (token exchange, credential leases) hand it to policy. Depends on nothing of theirs, so
 * both can use it without depending on each other.
 */
package dev.sigil.server.evidence;
