package dev.sigil.bench;

import dev.sigil.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * Samples what the broker's PostgreSQL backends ({@code application_name = 'sigil-broker'}) are doing every
 * 10 ms: running on CPU, idle between round trips, or waiting (on a lock: catalog contention of concurrent
 * {@code CREATE ROLE}; on I/O: WAL flushes). A coarse picture of where a grant's database time goes.
 */
final class WaitSampler {
    private final Map<String, Integer> counts = new TreeMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    private int samples;

    private WaitSampler(PostgresServer.Database database) {
        thread = Thread.ofPlatform().daemon().name("pg-wait-sampler").start(() -> {
            try (Connection connection = DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
                 Statement statement = connection.createStatement()) {
                while (running.get()) {
                    try (ResultSet rows = statement.executeQuery("SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                            + "WHERE application_name = 'sigil-broker'")) {
                        synchronized (counts) {
                            samples++;
                            while (rows.next()) {
                                String state = rows.getString(1);
                                String key = !"active".equals(state) ? String.valueOf(state)
                                        : rows.getString(2) == null ? "on cpu" : rows.getString(2) + ":" + rows.getString(3);
                                counts.merge(key, 1, Integer::sum);
                            }
                        }
                    }
                    Thread.sleep(10);
                }
            } catch (SQLException | InterruptedException e) {
                // a sampler that stops early reports what it saw
            }
        });
    }

    static WaitSampler start(PostgresServer.Database database) {
        return new WaitSampler(database);
    }

    /** Stops sampling; returns the average number of broker backends in each state per sample. */
    String stop() throws InterruptedException {
        running.set(false);
        thread.join();
        synchronized (counts) {
            if (samples == 0) {
                return "no samples";
            }
            int n = samples;
            return counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                    .map(e -> String.format("%s %.2f", e.getKey(), e.getValue() / (double) n)).collect(Collectors.joining(", "));
        }
    }
}
