package dev.sigil.server.datastore;

import java.sql.Connection;
import java.util.Objects;

/**
 * One open datastore transaction: the unit of work that components share when a change of one must
 * commit or roll back together with another's (a lease with its audit record, a task's end with what
 * it revokes, a token's registry row with its status entry). Made only by {@link Datastore#transaction};
 * valid only inside that call.
 *
 * <p>Contract: a component writes only its own tables through {@link #jdbc()} (checked by
 * {@code TableOwnershipTest}); to change another component's state it calls that component's method
 * with this transaction. Components never pass a bare {@link Connection} to each other
 * ({@code LayeringTest}).
 */
public final class Transaction {
    private final Connection connection;

    Transaction(Connection connection) {
        this.connection = Objects.requireNonNull(connection, "connection");
    }

    /** The transaction's connection, for the SQL of the calling component's own tables. Never commit or close it. */
    public Connection jdbc() {
        return connection;
    }

    @Override
    public String toString() {
        return "Transaction";
    }
}
