package dev.sigil.bench;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code GET /v1/health} over the server's admin Unix socket with a minimal HTTP/1.1 request, as a
 * readiness poller would. Only the status line is read.
 */
final class AdminHealthProbe {
    /** What {@link #status} returns when nothing answered: no socket yet, refused, or no reply in time. */
    static final int NO_ANSWER = -1;

    private static final byte[] REQUEST =
            "GET /v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final Path socket;
    private final Duration replyTimeout;

    AdminHealthProbe(Path socket, Duration replyTimeout) {
        this.socket = socket;
        this.replyTimeout = replyTimeout;
    }

    /** The HTTP status of one health request, or {@link #NO_ANSWER}. */
    int status() {
        try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
                Selector selector = Selector.open()) {
            ByteBuffer request = ByteBuffer.wrap(REQUEST);
            while (request.hasRemaining()) {
                channel.write(request);
            }
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_READ);
            ByteBuffer reply = ByteBuffer.allocate(512);
            long deadline = System.nanoTime() + replyTimeout.toNanos();
            while (!hasStatusLine(reply)) {
                long remainingMillis = (deadline - System.nanoTime()) / 1_000_000;
                if (remainingMillis <= 0 || !reply.hasRemaining()) {
                    return NO_ANSWER;
                }
                selector.select(remainingMillis);
                selector.selectedKeys().clear();
                if (channel.read(reply) < 0) {
                    break;
                }
            }
            return parseStatus(reply);
        } catch (IOException e) {
            return NO_ANSWER;
        }
    }

    private static boolean hasStatusLine(ByteBuffer reply) {
        for (int i = 1; i < reply.position(); i++) {
            if (reply.get(i - 1) == '\r' && reply.get(i) == '\n') {
                return true;
            }
        }
        return false;
    }

    /** {@code HTTP/1.1 200 OK} gives 200; anything else that is not a status line gives {@link #NO_ANSWER}. */
    private static int parseStatus(ByteBuffer reply) {
        String text = new String(reply.array(), 0, reply.position(), StandardCharsets.US_ASCII);
        String[] parts = text.lines().findFirst().orElse("").split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
            return NO_ANSWER;
        }
        try {
            return Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            return NO_ANSWER;
        }
    }
}
