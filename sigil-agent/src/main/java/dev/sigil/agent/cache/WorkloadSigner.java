package dev.sigil.agent.cache;

import dev.sigil.agent.server.AgentServerClient.SignRequest;
import dev.sigil.agent.server.MintedJwt;
import dev.sigil.agent.server.MintedWit;
import dev.sigil.agent.server.SignResult;
import java.util.List;

/** What the SVID cache needs from the server: signing workload CSRs and minting JWT-SVIDs and WIT-SVIDs. */
public interface WorkloadSigner {
    List<SignResult> batchSign(List<SignRequest> requests);

    MintedJwt mintJwt(String entryId, List<String> audience);

    /** A WIT-SVID for the entry bound to {@code publicKeyJwk}; throws when the server cannot be asked or refuses. */
    default MintedWit mintWit(String entryId, String publicKeyJwk) {
        throw new IllegalStateException("this signer cannot mint wit-svids");
    }

    /**
     * Whether the token at status list entry ({@code uri}, {@code idx}) was revoked; empty when the server
     * issued no token there. Throws when the server cannot be asked.
     */
    default java.util.Optional<Boolean> tokenRevoked(String uri, long idx) {
        throw new IllegalStateException("this signer cannot check token status");
    }
}
