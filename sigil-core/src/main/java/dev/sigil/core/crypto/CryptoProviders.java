package dev.sigil.core.crypto;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.Signature;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the JCA provider for signing, verification and key generation. The Amazon Corretto Crypto
 * Provider (native, several times faster for ECDSA) is used when its native library loads and passes
 * its self-tests; otherwise the JDK's own providers are used. The choice is made once per JVM and
 * logged, so operators can see which one is in use.
 */
public final class CryptoProviders {
    private static final Logger LOG = LoggerFactory.getLogger(CryptoProviders.class);
    private static final Provider FAST = loadCorretto();

    private CryptoProviders() {}

    private static Provider loadCorretto() {
        if (Boolean.getBoolean("sigil.crypto.disableAccp") || "true".equalsIgnoreCase(System.getenv("SIGIL_DISABLE_ACCP"))) {
            LOG.info("signing provider: JDK default providers (Amazon Corretto Crypto Provider disabled by configuration)");
            return null;
        }
        try {
            Class<?> type = Class.forName("com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider");
            Provider provider = (Provider) type.getField("INSTANCE").get(null);
            Throwable loadingError = (Throwable) type.getMethod("getLoadingError").invoke(provider);
            if (loadingError != null) {
                LOG.info("signing provider: JDK default providers (Amazon Corretto Crypto Provider unavailable: {})",
                        loadingError.toString());
                return null;
            }
            type.getMethod("assertHealthy").invoke(provider);
            LOG.info("signing provider: {} {}", provider.getName(), provider.getVersionStr());
            return provider;
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            LOG.info("signing provider: JDK default providers (Amazon Corretto Crypto Provider unavailable: {})", e.toString());
            return null;
        }
    }

    /** A human-readable name of the provider in use, for logs and health output. */
    public static String describe() {
        return FAST == null ? "JDK default providers" : FAST.getName() + " " + FAST.getVersionStr();
    }

    /** True when the native Amazon Corretto Crypto Provider is in use. */
    public static boolean nativeProviderInUse() {
        return FAST != null;
    }

    public static Signature signature(String algorithm) throws GeneralSecurityException {
        if (FAST != null) {
            try {
                return Signature.getInstance(algorithm, FAST);
            } catch (GeneralSecurityException e) {
                // fall through to the JDK for algorithms the native provider lacks
            }
        }
        return Signature.getInstance(algorithm);
    }

    public static KeyPairGenerator keyPairGenerator(String algorithm) throws GeneralSecurityException {
        if (FAST != null) {
            try {
                return KeyPairGenerator.getInstance(algorithm, FAST);
            } catch (GeneralSecurityException e) {
                // fall through
            }
        }
        return KeyPairGenerator.getInstance(algorithm);
    }

    public static KeyFactory keyFactory(String algorithm) throws GeneralSecurityException {
        if (FAST != null) {
            try {
                return KeyFactory.getInstance(algorithm, FAST);
            } catch (GeneralSecurityException e) {
                // fall through
            }
        }
        return KeyFactory.getInstance(algorithm);
    }

    /** The native provider, when loaded; for builders (BouncyCastle, Nimbus) that accept a provider. */
    public static java.util.Optional<Provider> nativeProvider() {
        return java.util.Optional.ofNullable(FAST);
    }
}
