package dev.sigil.server.keys;

import dev.sigil.core.plugin.NamedPlugin;
import dev.sigil.core.plugin.PluginException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code key_manager.type: pkcs11}: keys generated and kept in a PKCS#11 token (an HSM; SoftHSM2 for trials),
 * never on disk. The PIN comes from {@code pin_file} (a file readable only by the server's user) or else
 * the {@code SIGIL_PKCS11_PIN} environment variable; it is never a configuration value.
 */
public final class Pkcs11KeyManagerPlugin extends NamedPlugin<Pkcs11KeyManagerPlugin.Settings>
        implements KeyManagerPlugin<Pkcs11KeyManagerPlugin.Settings> {
    public static final String TYPE = "pkcs11";
    public static final String PIN_VARIABLE = "SIGIL_PKCS11_PIN";

    /**
     * @param library       the PKCS#11 module, e.g. {@code /usr/lib/softhsm/libsofthsm2.so} (required)
     * @param slotListIndex which slot with a token, counting from 0 (default 0)
     * @param pinFile       a file holding the user PIN (first line); without it, {@value #PIN_VARIABLE}
     */
    public record Settings(Path library, Integer slotListIndex, Path pinFile) {
        public Settings {
            if (slotListIndex != null && (slotListIndex < 0 || slotListIndex > 1023)) {
                throw new PluginException("key_manager.slot_list_index is " + slotListIndex + "; it must be 0 to 1023");
            }
        }

        @Override
        public String toString() {
            return "Settings[library=" + library + ", slotListIndex=" + slotListIndex + ", pinFile=" + pinFile + "]";
        }
    }

    public Pkcs11KeyManagerPlugin() {
        super(TYPE, Settings.class);
    }

    @Override
    public KeyManager create(Settings settings, Context context) {
        if (settings.library() == null) {
            throw new PluginException("key_manager.library is required for type pkcs11: the path of the token's PKCS#11 module, "
                    + "e.g. /usr/lib/softhsm/libsofthsm2.so");
        }
        if (!Files.isReadable(settings.library())) {
            throw new PluginException("key_manager.library " + settings.library() + " does not exist or is not readable");
        }
        char[] pin = pin(settings);
        try {
            return new Pkcs11KeyManager(settings.library().toString(), Optional.ofNullable(settings.slotListIndex()).orElse(0), pin);
        } finally {
            java.util.Arrays.fill(pin, '\0');
        }
    }

    private static char[] pin(Settings settings) {
        if (settings.pinFile() != null) {
            try {
                String first = Files.readString(settings.pinFile(), StandardCharsets.UTF_8).lines().findFirst().orElse("").strip();
                if (first.isEmpty()) {
                    throw new PluginException("key_manager.pin_file " + settings.pinFile() + " is empty; write the token's user PIN on its first line");
                }
                return first.toCharArray();
            } catch (IOException e) {
                throw new PluginException("cannot read key_manager.pin_file " + settings.pinFile() + ": " + dev.sigil.core.Printable.reason(e));
            }
        }
        String variable = System.getenv(PIN_VARIABLE);
        if (variable == null || variable.isEmpty()) {
            throw new PluginException("the pkcs11 key manager needs the token's user PIN: set key_manager.pin_file or " + PIN_VARIABLE);
        }
        return variable.toCharArray();
    }
}
