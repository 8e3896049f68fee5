package dev.sigil.server.status;

/**
 * A token's position on a status list: list {@code listId}, bit {@code index} within it. Not a
 * secret; it is written into the token's {@code status} claim.
 */
public record StatusRef(long listId, long index) {
    public StatusRef {
        if (listId < 0 || index < 0 || index >= TokenStatusRegistry.LIST_SIZE) {
            throw new IllegalArgumentException("status position " + listId + "/" + index + " is out of range; lists hold "
                    + TokenStatusRegistry.LIST_SIZE + " entries");
        }
    }
}
