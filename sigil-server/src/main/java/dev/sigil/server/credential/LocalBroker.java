package dev.sigil.server.credential;

import dev.sigil.server.audit.AuditTrail;

/**
 * A broker whose credential is made inside this server (a signature over claims), not in an external
 * backend: the access-token broker. Nothing exists anywhere until the holder receives the credential,
 * so such a lease needs no {@code pending} state and no second commit. {@link LeaseService#mint} mints
 * first, then commits the lease row, the broker's own {@link Minted#records()} (a token registry row, a
 * status list entry) and the grant's audit record in one transaction, group-committed with concurrent
 * grants. If that commit fails the credential is dropped, never returned, and reads as never issued
 * (no registry row: fail closed).
 *
 * <p>{@link #grant} (the plain {@link Broker} path, which {@code BrokerContract} drives) mints and
 * commits the broker's records in a transaction of its own.
 */
public interface LocalBroker extends Broker {

    /**
     * Mints the credential for {@code lease} without writing anything: its secret and details, and the
     * broker's records, which the caller commits together with the lease and its audit record.
     */
    Minted mint(LeaseGrant lease);

    /** A minted credential and the broker's records of it, still to be committed. */
    record Minted(Granted granted, AuditTrail.Alongside records) {
        public Minted {
            java.util.Objects.requireNonNull(granted, "granted");
            java.util.Objects.requireNonNull(records, "records");
        }
    }
}
