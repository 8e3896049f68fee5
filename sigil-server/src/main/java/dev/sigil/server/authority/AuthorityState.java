package dev.sigil.server.authority;

/**
 * Where an authority is in its life. It only moves forward: {@code PREPARED → ACTIVE → RETIRED → PRUNED}
 * (an authority that expires early goes straight to {@code PRUNED}). Prepared, active and retired
 * authorities are in the bundle; only the active one signs.
 */
public enum AuthorityState {
    /** Created and published in the bundle ahead of use, so relying parties learn it before it signs. */
    PREPARED("prepared"),
    /** The one authority of its kind that signs new SVIDs. */
    ACTIVE("active"),
    /** No longer signs; stays in the bundle until it expires, since SVIDs it signed may still be in use. */
    RETIRED("retired"),
    /** Expired and removed from the bundle; its key has been deleted. Kept in the journal as history. */
    PRUNED("pruned");

    private final String storedName;

    AuthorityState(String storedName) {
        this.storedName = storedName;
    }

    public String storedName() {
        return storedName;
    }

    static AuthorityState fromStored(String name) {
        for (AuthorityState state : values()) {
            if (state.storedName.equals(name)) {
                return state;
            }
        }
        throw new AuthorityException("journal holds unknown authority state '" + name + "'; valid: prepared, active, retired, pruned");
    }
}
