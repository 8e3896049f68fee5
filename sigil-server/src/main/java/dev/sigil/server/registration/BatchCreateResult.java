package dev.sigil.server.registration;

/** What became of one draft in {@link EntryStore#createBatch}. */
public sealed interface BatchCreateResult {

    record Created(RegistrationEntry entry) implements BatchCreateResult {}

    /** The draft was not stored; {@code error} says why (typically ALREADY_EXISTS). */
    record Failed(RegistrationException error) implements BatchCreateResult {}
}
