package dev.sigil.client;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A verified transaction token (draft-ietf-oauth-transaction-tokens, {@code txntoken+jwt}): the
 * transaction's id, subject and purpose, the workloads that requested it (first the one that started the
 * transaction), and its immutable context.
 *
 * @param tctx the transaction context ({@code task} holds Sigil's task id, purpose and owner when one was named)
 * @param rctx the request context ({@code authn}: how the requester authenticated)
 */
public record TransactionToken(String txn, String subject, Set<String> scopes, List<String> requestingWorkloads,
                               Map<String, Object> tctx, Map<String, Object> rctx, String jti, Instant issuedAt, Instant expiresAt) {
    public TransactionToken {
        scopes = Set.copyOf(scopes);
        requestingWorkloads = List.copyOf(requestingWorkloads);
        tctx = Map.copyOf(tctx);
        rctx = Map.copyOf(rctx);
    }
}
