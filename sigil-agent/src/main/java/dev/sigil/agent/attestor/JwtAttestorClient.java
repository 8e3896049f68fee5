package dev.sigil.agent.attestor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Agent side of {@code jwt}: presents the platform-issued token in {@code token_path}, read afresh at
 * every attestation (kubelet rewrites a projected token before it expires; a CI runner writes one per
 * job). A token attests once, so each attestation needs the token the platform issued since the last
 * one. The token is a bearer credential: it appears only in {@link #evidence()}, never in
 * {@code toString()} or an exception.
 */
public final class JwtAttestorClient implements NodeAttestorClient {
    public static final String TYPE = "jwt";
    /** Larger files are refused unread (the server accepts tokens up to 16 KiB). */
    static final int MAX_TOKEN_BYTES = 16 * 1024;

    private final Path tokenPath;

    public JwtAttestorClient(Path tokenPath) {
        this.tokenPath = Objects.requireNonNull(tokenPath, "tokenPath");
    }

    @Override
    public String type() {
        return TYPE;
    }

    /** The token now in {@code token_path}, surrounding whitespace removed; throws IllegalStateException naming the file when unusable. */
    @Override
    public byte[] evidence() {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(tokenPath)) {
            bytes = in.readNBytes(MAX_TOKEN_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw new IllegalStateException("jwt token file " + tokenPath + " does not exist; mount the platform's token there "
                    + "(for example a projected service account token) or set node_attestor.token_path");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read jwt token file " + tokenPath + ": " + e.getClass().getSimpleName());
        }
        if (bytes.length > MAX_TOKEN_BYTES) {
            throw new IllegalStateException("jwt token file " + tokenPath + " is larger than " + MAX_TOKEN_BYTES
                    + " bytes; expected one compact jwt");
        }
        String token = new String(bytes, StandardCharsets.US_ASCII).strip();
        if (token.isEmpty()) {
            throw new IllegalStateException("jwt token file " + tokenPath + " is empty; expected one compact jwt");
        }
        return token.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public byte[] respond(byte[] challenge) {
        throw new IllegalStateException("jwt attestation has no challenge; the server sent one of "
                + (challenge == null ? 0 : challenge.length) + " bytes");
    }

    @Override
    public String toString() {
        return "JwtAttestorClient[token_path=" + tokenPath + "]";
    }
}
