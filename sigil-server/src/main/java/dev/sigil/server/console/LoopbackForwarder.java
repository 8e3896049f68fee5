package dev.sigil.server.console;

import dev.sigil.core.SigilException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code sigil console} runs on the operator's machine: a TCP port on the loopback interface whose
 * every connection is copied byte for byte to and from the server's admin Unix socket, so a local
 * browser can reach the console. It reads and changes nothing in the bytes.
 *
 * <p>Security: the port is bound to 127.0.0.1 only, but any local user can connect to it, and the server
 * sees each forwarded connection as this operator on the socket. That is why a console page needs a
 * session cookie, obtained only with the one-time code {@code sigil console} prints, and never trusts the
 * socket's peer. At most {@value #MAX_CONNECTIONS} connections are forwarded at once.
 */
public final class LoopbackForwarder implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LoopbackForwarder.class);
    static final int MAX_CONNECTIONS = 32;

    private final ServerSocketChannel listener;
    private final Path socket;
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
    private volatile boolean closed;

    private LoopbackForwarder(ServerSocketChannel listener, Path socket) {
        this.listener = listener;
        this.socket = socket;
    }

    /** Listens on 127.0.0.1:{@code port} (0 picks a free port) and forwards to {@code socket}. */
    public static LoopbackForwarder start(int port, Path socket) {
        Objects.requireNonNull(socket, "socket");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port " + port + " is out of range; use 0 (any free port) to 65535");
        }
        ServerSocketChannel listener;
        try {
            listener = ServerSocketChannel.open();
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        } catch (IOException e) {
            throw new SigilException("cannot listen on 127.0.0.1:" + port + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
        }
        LoopbackForwarder forwarder = new LoopbackForwarder(listener, socket);
        Thread.ofVirtual().name("console-forwarder-accept").start(forwarder::acceptLoop);
        return forwarder;
    }

    /** The bound port. */
    public int port() {
        try {
            return ((InetSocketAddress) listener.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new IllegalStateException("the console forwarder is closed", e);
        }
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel browser;
            try {
                slots.acquire();
                browser = listener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                slots.release();
                if (!closed) {
                    LOG.warn("console forwarder cannot accept a connection: {}", e.getMessage());
                }
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            Thread.ofVirtual().name("console-forwarder").start(() -> forward(browser));
        }
    }

    private void forward(SocketChannel browser) {
        open.add(browser);
        try (browser; SocketChannel server = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.connect(UnixDomainSocketAddress.of(socket));
            Thread back = Thread.ofVirtual().name("console-forwarder-back").start(() -> copy(server, browser));
            copy(browser, server);
            back.join();
        } catch (IOException e) {
            LOG.debug("console forwarder connection ended: {}", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            open.remove(browser);
            slots.release();
        }
    }

    /** Copies until {@code from} ends, then ends {@code to}'s output so the other side sees the close. */
    private void copy(SocketChannel from, SocketChannel to) {
        ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
        try {
            while (from.read(buffer) >= 0) {
                buffer.flip();
                while (buffer.hasRemaining()) {
                    to.write(buffer);
                }
                buffer.clear();
            }
            to.shutdownOutput();
        } catch (IOException e) {
            // one side went away: close both so the other copy ends too
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    /** Stops listening and cuts every forwarded connection. Idempotent. */
    @Override
    public void close() {
        closed = true;
        closeQuietly(listener);
        open.forEach(LoopbackForwarder::closeQuietly);
    }

    private static void closeQuietly(java.nio.channels.Channel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing a console forwarder channel: {}", e.getMessage());
        }
    }
}
