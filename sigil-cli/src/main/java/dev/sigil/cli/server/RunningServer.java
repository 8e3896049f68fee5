package dev.sigil.cli.server;

/** A started server. {@link #close()} stops every listener and releases every resource; it is idempotent. */
public interface RunningServer extends AutoCloseable {
    @Override
    void close();
}
