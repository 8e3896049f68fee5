package dev.sigil.core.crypto;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.Optional;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * An operator's PEM private key file (a TLS key, an x509pop key): {@code PRIVATE KEY} (PKCS#8),
 * {@code EC PRIVATE KEY} or {@code RSA PRIVATE KEY}, unencrypted. The key never reaches a message:
 * callers say which file held nothing usable, in their own words.
 */
public final class PemPrivateKeys {
    private PemPrivateKeys() {
    }

    /** The first object of {@code file} as a private key; empty when it is not an unencrypted private key. */
    public static Optional<PrivateKey> read(Path file) throws IOException {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser parser = new PEMParser(reader)) {
            Object object = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (object instanceof PEMKeyPair pair) {
                return Optional.of(converter.getPrivateKey(pair.getPrivateKeyInfo()));
            }
            if (object instanceof PrivateKeyInfo info) {
                return Optional.of(converter.getPrivateKey(info));
            }
            return Optional.empty();
        }
    }
}
