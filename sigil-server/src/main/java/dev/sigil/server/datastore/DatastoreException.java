package dev.sigil.server.datastore;

import dev.sigil.core.SigilException;

/** A failure of the database itself (unreachable, corrupt, full); never a client mistake. */
public class DatastoreException extends SigilException {
    public DatastoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public DatastoreException(String message) {
        super(message);
    }
}
