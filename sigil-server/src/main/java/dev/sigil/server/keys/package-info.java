/**
 * Key managers: where the server's private keys (CA and JWT signing keys) are created and kept.
 *
 * <p>The extension point is {@link dev.sigil.server.keys.KeyManager}; built-in implementations come from
 * {@link dev.sigil.server.keys.KeyManagers} ({@code memory}, {@code disk}) and every implementation
 * passes {@code KeyManagerContractTest}. Callers get {@link dev.sigil.server.keys.KeyHandle}s that sign;
 * no type in this package returns a {@link java.security.PrivateKey}. Keys an operator supplies as
 * files (an upstream CA's key) are loaded through {@link dev.sigil.server.keys.FileSigner}, which
 * likewise only signs. Signing uses {@link dev.sigil.core.crypto.CryptoProviders}, so the native
 * provider does the work when it is loaded.
 */
package dev.sigil.server.keys;
