package dev.sigil.server.agent.attestor;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.registration.JoinTokenConsumption;
import dev.sigil.server.registration.JoinTokens;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * {@code join_token}: the evidence is a one-time join token (UTF-8). The token is consumed through
 * {@link JoinTokens} (single use, expiry, audited), so a second presentation is refused.
 *
 * <p>The agent's SPIFFE ID is {@code spiffe://<td>/sigil/agent/join_token/<token id>} where the id is
 * the token's non-secret reference (a prefix of its SHA-256) — never the token itself. The selector is
 * {@code join_token:id:<token id>}; trust level 1 (the token proves only that an operator let the node in).
 * A SPIFFE ID named at token generation is not the agent's ID: map it with a node alias entry
 * (parent {@code /sigil/server}, selector {@code join_token:id:<token id>}).
 */
public final class JoinTokenAttestor implements NodeAttestor {
    public static final String TYPE = "join_token";
    private static final int MAX_TOKEN_LENGTH = 256;

    private final JoinTokens tokens;
    private final TrustDomain trustDomain;

    public JoinTokenAttestor(JoinTokens tokens, TrustDomain trustDomain) {
        this.tokens = Objects.requireNonNull(tokens, "tokens");
        this.trustDomain = Objects.requireNonNull(trustDomain, "trustDomain");
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public AttestationStep begin(byte[] evidence, String actor) {
        if (evidence == null || evidence.length == 0 || evidence.length > MAX_TOKEN_LENGTH) {
            return new AttestationStep.Malformed("join token evidence is " + (evidence == null ? 0 : evidence.length)
                    + " bytes; expected a token of 1 to " + MAX_TOKEN_LENGTH + " bytes");
        }
        return switch (tokens.consume(new String(evidence, StandardCharsets.UTF_8), actor)) {
            case JoinTokenConsumption.Consumed consumed -> new AttestationStep.Attested(
                    trustDomain.id("/sigil/agent/" + TYPE + "/" + consumed.tokenId()),
                    List.of(Selector.of(TYPE, "id:" + consumed.tokenId())), 1);
            case JoinTokenConsumption.Expired expired -> new AttestationStep.Refused(
                    "join token " + expired.tokenId() + " expired at " + expired.expiredAt());
            case JoinTokenConsumption.Unknown unknown -> new AttestationStep.Refused(
                    "join token is unknown, already used or pruned");
        };
    }

    @Override
    public String toString() {
        return "JoinTokenAttestor[" + trustDomain + "]";
    }
}
