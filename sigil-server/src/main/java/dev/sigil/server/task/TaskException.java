package dev.sigil.server.task;

import dev.sigil.core.SigilException;

/** A task operation that cannot be done: unknown task, or a task that is no longer active. */
public final class TaskException extends SigilException {
    private final boolean notFound;

    TaskException(String message, boolean notFound) {
        super(message);
        this.notFound = notFound;
    }

    public boolean notFound() {
        return notFound;
    }
}
