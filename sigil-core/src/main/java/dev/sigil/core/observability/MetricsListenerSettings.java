package dev.sigil.core.observability;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code metrics} block of a server or agent file: where the metrics and health listener binds
 * (loopback unless configured otherwise) and, optionally, its TLS. The listener exists only when the
 * block is present.
 *
 * @param tls when present the listener speaks HTTPS only; with a client CA it also requires a client
 *            certificate chaining to that CA (mutual TLS), and a client without one fails the handshake
 */
public record MetricsListenerSettings(String address, int port, Optional<Tls> tls) {
    public static final String LOOPBACK = "127.0.0.1";

    public MetricsListenerSettings {
        Objects.requireNonNull(address, "address");
        if (address.isBlank()) {
            throw new IllegalArgumentException("metrics.address is blank; use an ip address such as 127.0.0.1");
        }
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("metrics.port " + port + " is out of range; use 0 to 65535 (0 picks a free port)");
        }
        Objects.requireNonNull(tls, "tls");
    }

    /** The listener's certificate chain and key (PEM), and the CA its clients' certificates must chain to. */
    public record Tls(Path certFile, Path keyFile, Optional<Path> clientCaFile) {
        public Tls {
            if (certFile == null || keyFile == null) {
                throw new IllegalArgumentException("metrics.tls needs both cert_file and key_file");
            }
            Objects.requireNonNull(clientCaFile, "clientCaFile");
        }
    }

    /**
     * The settings from a file's raw block ({@code null} when absent: no listener).
     *
     * @param defaultPort the port used when the block names none
     */
    public static Optional<MetricsListenerSettings> from(Block block, int defaultPort) {
        if (block == null) {
            return Optional.empty();
        }
        Optional<Tls> tls = Optional.ofNullable(block.tls())
                .map(t -> new Tls(t.certFile(), t.keyFile(), Optional.ofNullable(t.clientCaFile())));
        return Optional.of(new MetricsListenerSettings(block.address() == null ? LOOPBACK : block.address(),
                block.port() == null ? defaultPort : block.port(), tls));
    }

    /** The block as written in a configuration file (every key optional). */
    public record Block(String address, Integer port, TlsBlock tls) {
    }

    /** {@code metrics.tls} as written. */
    public record TlsBlock(Path certFile, Path keyFile, Path clientCaFile) {
    }
}
