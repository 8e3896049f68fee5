package dev.sigil.server.keys;

import java.nio.file.Path;

/** The built-in key managers. */
public final class KeyManagers {
    private KeyManagers() {}

    /** Keys held in memory only: lost when the process ends. For tests and throw-away servers. */
    public static KeyManager memory() {
        return new MemoryKeyManager();
    }

    /**
     * Keys stored as PKCS#8 PEM files, one per key, in {@code directory} (created mode 0700 when
     * missing, tightened to 0700 when looser). Files are mode 0600 and replaced atomically, so a crash
     * at any point leaves either the old key or the new one, never a partial file.
     *
     * @throws KeyManagerException when the directory cannot be created or secured
     */
    public static KeyManager disk(Path directory) {
        return DiskKeyManager.open(directory);
    }
}
