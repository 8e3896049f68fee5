package dev.sigil.server.agent.attestor.jwt;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One issuer whose tokens the {@code jwt} attestor accepts, validated from its configuration block.
 *
 * @param issuer       compared exactly with a token's {@code iss}
 * @param audience     a token's {@code aud} must contain it
 * @param clockSkew    tolerance for {@code exp}, {@code nbf} and {@code iat}
 * @param preset       the platform's claim mappings, if any
 * @param cluster      the Kubernetes cluster name (preset k8s_psat only)
 * @param mappings     the preset's mappings followed by the explicit ones
 * @param agentIdName  the segment after {@code /sigil/agent/jwt/} in agent IDs (unique per server)
 * @param keys         where the issuer's signing keys come from
 */
record TrustedIssuer(String issuer, String audience, Duration clockSkew, Optional<Preset> preset, Optional<String> cluster,
                     List<ClaimMapping> mappings, String agentIdName, IssuerKeys keys) {
    TrustedIssuer {
        Objects.requireNonNull(issuer, "issuer");
        Objects.requireNonNull(audience, "audience");
        Objects.requireNonNull(clockSkew, "clockSkew");
        Objects.requireNonNull(preset, "preset");
        Objects.requireNonNull(cluster, "cluster");
        mappings = List.copyOf(mappings);
        Objects.requireNonNull(agentIdName, "agentIdName");
        Objects.requireNonNull(keys, "keys");
    }
}
