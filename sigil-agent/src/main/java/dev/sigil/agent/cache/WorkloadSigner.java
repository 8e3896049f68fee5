package dev.sigil.agent.cache;

import dev.sigil.agent.server.AgentServerClient.SignRequest;
import dev.sigil.agent.server.MintedJwt;
import dev.sigil.agent.server.SignResult;
import java.util.List;

/** What the SVID cache needs from the server: signing workload CSRs and minting JWT-SVIDs. */
public interface WorkloadSigner {
    List<SignResult> batchSign(List<SignRequest> requests);

    MintedJwt mintJwt(String entryId, List<String> audience);

    /**
     * Whether the token at status list entry ({@code uri}, {@code idx}) was revoked; empty when the server
     * issued no token there. Throws when the server cannot be asked.
     */
    default java.util.Optional<Boolean> tokenRevoked(String uri, long idx) {
        throw new IllegalStateException("this signer cannot check token status");
    }
}
