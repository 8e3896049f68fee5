package dev.sigil.server.keys;

import dev.sigil.core.crypto.KeyType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;

/**
 * A signer over a private key that an operator supplied as a file, for example the key of an upstream
 * CA that signs Sigil's intermediate. Accepts unencrypted PEM: PKCS#8 {@code PRIVATE KEY}, SEC1
 * {@code EC PRIVATE KEY} or PKCS#1 {@code RSA PRIVATE KEY}, of type ec-p256, ec-p384 or rsa-2048.
 *
 * <p>The key is read once, kept in memory and reachable only through {@link #sign}; this class
 * never writes or prints it. The file is not modified.
 */
public final class FileSigner implements Signer {
    private final Path file;
    private final SoftwareKey key;

    private FileSigner(Path file, SoftwareKey key) {
        this.file = file;
        this.key = key;
    }

    /**
     * Loads the first private key in {@code pemFile}.
     *
     * @throws KeyManagerException naming the file when it is missing, unreadable, encrypted, not a
     *                             private key or of an unsupported type
     */
    public static FileSigner load(Path pemFile) {
        Path file = pemFile.toAbsolutePath().normalize();
        String pem;
        try {
            pem = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new KeyManagerException("cannot read private key file " + file + ": " + e, e);
        }
        PrivateKeys.Decoded decoded = PrivateKeys.decodePem(pem, "private key file " + file);
        return new FileSigner(file, new SoftwareKey(file.getFileName().toString(), decoded.type(),
                decoded.privateKey(), decoded.publicKey()));
    }

    /** The file the key was read from. */
    public Path file() {
        return file;
    }

    @Override
    public KeyType type() {
        return key.type();
    }

    @Override
    public PublicKey publicKey() {
        return key.publicKey();
    }

    @Override
    public byte[] sign(byte[] data) {
        return key.sign(data);
    }

    @Override
    public String toString() {
        return "FileSigner[" + file + ", " + key.type().configName() + "]";
    }
}
