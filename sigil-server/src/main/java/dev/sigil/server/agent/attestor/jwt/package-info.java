/**
 * The {@code jwt} node attestor: nodes join with a token their platform issued (Kubernetes projected
 * service account tokens, GitHub Actions and GitLab CI OIDC tokens), verified against configured issuers
 * whose keys come from a JWKS file or OIDC discovery over HTTPS. Sees only the attestor contract
 * ({@link dev.sigil.server.agent.attestor}); a token attests once ({@code SingleUseEvidence}).
 */
package dev.sigil.server.agent.attestor.jwt;
