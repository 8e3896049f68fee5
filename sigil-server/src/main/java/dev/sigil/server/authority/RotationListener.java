package dev.sigil.server.authority;

/**
 * Told about every change to the authorities, after it is committed to the journal; the server wires
 * this to the audit trail. Called on the thread that ran {@link Authority#tick()}; an exception it
 * throws is logged and does not undo the change.
 */
@FunctionalInterface
public interface RotationListener {
    void onRotation(RotationEvent event);

    /** A listener that ignores every event (the authority still logs them). */
    static RotationListener none() {
        return event -> {};
    }
}
