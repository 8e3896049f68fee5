package dev.sigil.agent.workload;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Change notifications (inotify, through the JDK's {@link WatchService}) for the directories holding
 * watched workload binaries. A binary replaced by rename, deleted, or written in place makes the
 * watcher call {@code changed} with its path; an event overflow calls it with empty (re-check all).
 *
 * <p>Notifications only speed drift detection up: a directory that cannot be watched (permissions,
 * inotify limits) is logged and left to the periodic re-attestation, which is the guarantee.
 */
final class BinaryWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BinaryWatcher.class);

    private final WatchService service;
    private final Consumer<Optional<Path>> changed;
    private final Map<Path, Integer> binaries = new HashMap<>();
    private final Map<Path, WatchKey> directories = new HashMap<>();
    private final Map<WatchKey, Path> keys = new HashMap<>();
    private final Thread thread;

    BinaryWatcher(Consumer<Optional<Path>> changed) {
        this.changed = changed;
        WatchService created;
        try {
            created = FileSystems.getDefault().newWatchService();
        } catch (IOException | UnsupportedOperationException e) {
            LOG.warn("no change notifications for workload binaries ({}); relying on periodic re-attestation", e.toString());
            created = null;
        }
        this.service = created;
        this.thread = new Thread(this::run, "sigil-workload-binary-watch");
        thread.setDaemon(true);
        if (service != null) {
            thread.start();
        }
    }

    /** Watches {@code binary}'s directory; counted, so every call needs one {@link #unwatch}. */
    synchronized void watch(Path binary) {
        if (service == null || binary.getParent() == null) {
            return;
        }
        binaries.merge(binary, 1, Integer::sum);
        Path directory = binary.getParent();
        if (!directories.containsKey(directory)) {
            try {
                WatchKey key = directory.register(service, StandardWatchEventKinds.ENTRY_CREATE,
                        StandardWatchEventKinds.ENTRY_DELETE, StandardWatchEventKinds.ENTRY_MODIFY);
                directories.put(directory, key);
                keys.put(key, directory);
            } catch (IOException | ClosedWatchServiceException e) {
                LOG.debug("cannot watch workload binary directory {}: {}", directory, e.toString());
            }
        }
    }

    synchronized void unwatch(Path binary) {
        Integer count = binaries.get(binary);
        if (count == null) {
            return;
        }
        if (count > 1) {
            binaries.put(binary, count - 1);
            return;
        }
        binaries.remove(binary);
        Path directory = binary.getParent();
        if (binaries.keySet().stream().noneMatch(b -> directory.equals(b.getParent()))) {
            WatchKey key = directories.remove(directory);
            if (key != null) {
                keys.remove(key);
                key.cancel();
            }
        }
    }

    synchronized int watchedDirectories() {
        return directories.size();
    }

    private void run() {
        while (true) {
            WatchKey key;
            try {
                key = service.take();
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            }
            Path directory;
            synchronized (this) {
                directory = keys.get(key);
            }
            for (WatchEvent<?> event : key.pollEvents()) {
                try {
                    if (event.kind() == StandardWatchEventKinds.OVERFLOW) {
                        changed.accept(Optional.empty());
                    } else if (directory != null && event.context() instanceof Path name) {
                        Path file = directory.resolve(name);
                        boolean watched;
                        synchronized (this) {
                            watched = binaries.containsKey(file);
                        }
                        if (watched) {
                            changed.accept(Optional.of(file));
                        }
                    }
                } catch (RuntimeException e) {
                    LOG.warn("workload binary change handler failed: {}", e.toString());
                }
            }
            key.reset();
        }
    }

    @Override
    public void close() {
        if (service != null) {
            try {
                service.close();
            } catch (IOException e) {
                LOG.debug("cannot close the binary watch service: {}", e.toString());
            }
            thread.interrupt();
        }
    }
}
