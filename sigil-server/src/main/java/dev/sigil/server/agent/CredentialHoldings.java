package dev.sigil.server.agent;

import dev.sigil.core.spiffeid.SpiffeId;

/**
 * Whether an identity holds live credentials the server issued: a lease (pending, active or being
 * revoked), an access token or a JWT-SVID that is neither revoked nor expired. The agent API asks it
 * about a workload that exited: an exit is recorded (and handed to the drift response, which may
 * revoke per policy) only for identities that hold something; a process that only fetched an
 * X.509-SVID and ended (a CLI run) leaves no record.
 */
@FunctionalInterface
public interface CredentialHoldings {
    /** Answers "yes" for every identity: every exit is recorded. */
    CredentialHoldings ANY = holder -> true;

    boolean holdsLiveCredentials(SpiffeId holder);
}
