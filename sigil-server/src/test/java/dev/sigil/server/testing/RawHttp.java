package dev.sigil.server.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A deliberately tiny HTTP/1.1 client for tests, so the server is exercised by exactly the bytes a
 * test writes (no client library smoothing over malformed requests). One request per connection.
 */
public final class RawHttp {
    private RawHttp() {
    }

    public record Reply(int status, Map<String, String> headers, String body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    public static Reply unix(Path socket, String method, String path) throws IOException {
        return unix(socket, method, path, null, null);
    }

    public static Reply unix(Path socket, String method, String path, String contentType, byte[] body) throws IOException {
        return unix(socket, method, path, contentType, body, Map.of());
    }

    /** A request with extra headers (a cookie, an origin) over the Unix socket. */
    public static Reply unix(Path socket, String method, String path, String contentType, byte[] body, Map<String, String> headers)
            throws IOException {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap(request(method, path, contentType, body, headers)));
            return parse(Channels.newInputStream(channel).readAllBytes());
        }
    }

    public static Reply tls(SSLContext context, InetSocketAddress address, String method, String path) throws IOException {
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(address.getAddress(), address.getPort())) {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            OutputStream out = socket.getOutputStream();
            out.write(request(method, path, null, null));
            out.flush();
            InputStream in = socket.getInputStream();
            return parse(in.readAllBytes());
        }
    }

    /** A request with a body and extra headers over TLS. */
    public static Reply tls(SSLContext context, InetSocketAddress address, String method, String path, String contentType, byte[] body,
                            Map<String, String> headers) throws IOException {
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(address.getAddress(), address.getPort())) {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            OutputStream out = socket.getOutputStream();
            out.write(request(method, path, contentType, body, headers));
            out.flush();
            return parse(socket.getInputStream().readAllBytes());
        }
    }

    public static byte[] request(String method, String path, String contentType, byte[] body) {
        return request(method, path, contentType, body, Map.of());
    }

    public static byte[] request(String method, String path, String contentType, byte[] body, Map<String, String> headers) {
        StringBuilder head = new StringBuilder()
                .append(method).append(' ').append(path).append(" HTTP/1.1\r\n")
                .append("Host: localhost\r\nConnection: close\r\n");
        headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        if (contentType != null) {
            head.append("Content-Type: ").append(contentType).append("\r\n");
        }
        if (body != null) {
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        head.append("\r\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(head.toString().getBytes(StandardCharsets.US_ASCII));
        if (body != null) {
            out.writeBytes(body);
        }
        return out.toByteArray();
    }

    static Reply parse(byte[] raw) throws IOException {
        String text = new String(raw, StandardCharsets.UTF_8);
        int end = text.indexOf("\r\n\r\n");
        if (end < 0) {
            throw new IOException("no complete http response; got " + raw.length + " bytes: " + text);
        }
        String[] lines = text.substring(0, end).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        String body = text.substring(end + 4);
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            body = dechunk(body);
        }
        return new Reply(status, headers, body);
    }

    private static String dechunk(String body) {
        StringBuilder out = new StringBuilder();
        int position = 0;
        while (true) {
            int lineEnd = body.indexOf("\r\n", position);
            int size = Integer.parseInt(body.substring(position, lineEnd).trim(), 16);
            if (size == 0) {
                return out.toString();
            }
            out.append(body, lineEnd + 2, lineEnd + 2 + size);
            position = lineEnd + 2 + size + 2;
        }
    }
}
