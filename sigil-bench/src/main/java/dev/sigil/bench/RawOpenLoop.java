package dev.sigil.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * An open-loop load of token exchanges at a fixed rate, over raw TLS sockets with HTTP/1.1 keep-alive: a
 * few times cheaper per request than {@code java.net.http.HttpClient}, so on a small machine the client
 * takes less of the CPU the measured server needs. Request {@code i} is scheduled at {@code start + i / rate};
 * {@code connections} threads, one connection each (opened before the schedule starts), take the next scheduled request as soon as they are free
 * (and wait for its time when early), and its latency is measured from the scheduled time, so queueing
 * behind a slow server counts. A request that could not be sent within {@link #GIVE_UP_NANOS} of its
 * time, or was not answered 200 with an {@code access_token}, fails and counts as slower than every answered one.
 * The server's certificate chain is verified against the given trust (no host name check: it names a SPIFFE ID).
 */
final class RawOpenLoop {
    static final long GIVE_UP_NANOS = 10_000_000_000L;

    private RawOpenLoop() {}

    static TokenExchangeBench.Open run(URI uri, String[] bodies, SSLContext tls, int connections, int rate, int seconds)
            throws InterruptedException {
        int total = rate * seconds;
        long interval = 1_000_000_000L / rate;
        long[] latencies = new long[total];
        Arrays.fill(latencies, -1);
        byte[][] requests = new byte[bodies.length][];
        for (int i = 0; i < bodies.length; i++) {
            byte[] body = bodies[i].getBytes(StandardCharsets.UTF_8);
            String head = "POST " + uri.getRawPath() + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort()
                    + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " + body.length + "\r\n\r\n";
            byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
            requests[i] = Arrays.copyOf(headBytes, headBytes.length + body.length);
            System.arraycopy(body, 0, requests[i], headBytes.length, body.length);
        }
        AtomicInteger next = new AtomicInteger();
        AtomicLong failed = new AtomicLong();
        AtomicLong maxLag = new AtomicLong();
        AtomicReference<String> firstFailure = new AtomicReference<>();
        // the connections are opened (TLS handshakes) before the schedule starts, so the first second does
        // not measure 32 handshakes queued at once
        java.util.concurrent.CountDownLatch connected = new java.util.concurrent.CountDownLatch(connections);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        long[] startHolder = new long[1];
        List<Thread> workers = new ArrayList<>();
        for (int c = 0; c < connections; c++) {
            workers.add(Thread.ofPlatform().name("open-loop-" + c).start(() -> {
                Connection connection = null;
                try {
                    connection = Connection.open(tls, uri);
                } catch (IOException | RuntimeException e) {
                    firstFailure.compareAndSet(null, "cannot connect: " + e);
                } finally {
                    connected.countDown();
                }
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                long start = startHolder[0];
                int i;
                while ((i = next.getAndIncrement()) < total) {
                    long scheduled = start + i * interval;
                    long now;
                    while ((now = System.nanoTime()) < scheduled) {
                        LockSupport.parkNanos(scheduled - now);
                    }
                    long lag = now - scheduled;
                    maxLag.accumulateAndGet(lag, Math::max);
                    if (lag > GIVE_UP_NANOS) {
                        failed.incrementAndGet();
                        firstFailure.compareAndSet(null, "not sent within 10 s of its scheduled time");
                        continue;
                    }
                    try {
                        if (connection == null) {
                            connection = Connection.open(tls, uri);
                        }
                        if (!connection.exchange(requests[i % requests.length])) {
                            connection.close();
                            connection = null;
                        }
                        latencies[i] = System.nanoTime() - scheduled;
                    } catch (IOException | RuntimeException e) {
                        failed.incrementAndGet();
                        firstFailure.compareAndSet(null, e.toString());
                        if (connection != null) {
                            connection.close();
                            connection = null;
                        }
                    }
                }
                if (connection != null) {
                    connection.close();
                }
            }));
        }
        connected.await();
        long start = System.nanoTime() + 50_000_000;
        startHolder[0] = start;
        go.countDown();
        for (Thread worker : workers) {
            worker.join();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        dumpLatencies(latencies, interval);
        long[] answered = Arrays.stream(latencies).filter(l -> l >= 0).sorted().toArray();
        return new TokenExchangeBench.Open(elapsed, answered, maxLag.get(), (int) failed.get(), firstFailure.get());
    }

    /**
     * With {@code -Dsigil.bench.latencies=FILE}, writes one line per request: its scheduled offset from the
     * start in ms and its latency in ms (-1 when it failed), to tell a stall that delays every request in a
     * window from one that delays a few connections.
     */
    private static void dumpLatencies(long[] latencies, long interval) {
        String file = System.getProperty("sigil.bench.latencies");
        if (file == null) {
            return;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < latencies.length; i++) {
            out.append(String.format(java.util.Locale.ROOT, "%.3f %.3f%n", i * interval / 1e6,
                    latencies[i] < 0 ? -1.0 : latencies[i] / 1e6));
        }
        try {
            java.nio.file.Files.writeString(java.nio.file.Path.of(file), out);
        } catch (IOException e) {
            System.err.println("could not write " + file + ": " + e.getMessage());
        }
    }

    /** One keep-alive TLS connection. */
    private record Connection(SSLSocket socket, OutputStream out, InputStream in) {
        static Connection open(SSLContext tls, URI uri) throws IOException {
            SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(uri.getHost(), uri.getPort());
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(30_000);
            socket.startHandshake();
            return new Connection(socket, socket.getOutputStream(), new BufferedInputStream(socket.getInputStream(), 16 * 1024));
        }

        /** Sends one request and reads its answer; returns false when the server closes the connection after it. */
        boolean exchange(byte[] request) throws IOException {
            out.write(request);
            out.flush();
            String status = line();
            int length = -1;
            boolean chunked = false;
            boolean keepAlive = true;
            String header;
            while (!(header = line()).isEmpty()) {
                String lower = header.toLowerCase(java.util.Locale.ROOT);
                if (lower.startsWith("content-length:")) {
                    length = Integer.parseInt(lower.substring(15).strip());
                } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                    chunked = true;
                } else if (lower.startsWith("connection:") && lower.contains("close")) {
                    keepAlive = false;
                }
            }
            String body;
            if (chunked) {
                StringBuilder all = new StringBuilder();
                int size;
                while ((size = Integer.parseInt(line().strip(), 16)) > 0) {
                    all.append(new String(in.readNBytes(size), StandardCharsets.UTF_8));
                    line();
                }
                line();
                body = all.toString();
            } else if (length >= 0) {
                body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
            } else {
                throw new IOException("answer without a length: " + status);
            }
            if (!status.startsWith("HTTP/1.1 200") || !body.contains("\"access_token\"")) {
                throw new IOException("exchange answered " + status + ": " + body);
            }
            return keepAlive;
        }

        private String line() throws IOException {
            StringBuilder line = new StringBuilder();
            int b;
            while ((b = in.read()) != '\n') {
                if (b < 0) {
                    throw new IOException("connection closed by the server");
                }
                if (b != '\r') {
                    line.append((char) b);
                }
            }
            return line.toString();
        }

        void close() {
            try {
                socket.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
