package dev.sigil.server.keys;

/**
 * A key held by a {@link KeyManager}, named by the id it was generated under. The handle signs; the
 * private key stays inside the manager.
 */
public interface KeyHandle extends Signer {
    String id();
}
