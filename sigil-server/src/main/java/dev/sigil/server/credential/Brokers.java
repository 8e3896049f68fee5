package dev.sigil.server.credential;

import dev.sigil.server.config.ServerPlugins;
import dev.sigil.core.SigilException;
import dev.sigil.core.plugin.PluginBlocks;
import dev.sigil.core.plugin.PluginException;
import dev.sigil.core.plugin.PluginKind;
import dev.sigil.core.plugin.PluginRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Builds the brokers the {@code brokers:} section configures, each by its plugin ({@link BrokerPlugin},
 * found in the {@link PluginRegistry}). Knows no concrete broker: a new broker is a plugin in its own
 * package and a line in {@code META-INF/services/dev.sigil.core.plugin.Plugin}.
 */
public final class Brokers {
    private static final Set<PosixFilePermission> GROUP_OR_WORLD = EnumSet.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private Brokers() {
    }

    /** Every broker {@code configured} enables, with its lease lifetimes, in the order of the file. */
    public static List<ConfiguredBroker> create(PluginBlocks configured, PluginRegistry registry, BrokerPlugin.Context context) {
        List<ConfiguredBroker> brokers = new ArrayList<>();
        configured.blocks().forEach((type, settings) -> {
            BrokerPlugin<?> plugin = registry.find(ServerPlugins.BROKERS, type, BrokerPlugin.class)
                    .orElseThrow(() -> new PluginException("no broker plugin is named '" + type + "'"));
            brokers.add(build(plugin, settings, context));
        });
        return brokers;
    }

    private static <S extends Record> ConfiguredBroker build(BrokerPlugin<S> plugin, Record settings, BrokerPlugin.Context context) {
        S typed = plugin.settingsType().cast(settings);
        LeaseTtls ttls = plugin.ttls(typed);
        return new ConfiguredBroker(plugin.create(typed, context), ttls.defaultTtl(), ttls.maxTtl());
    }

    /**
     * Reads a one-line secret from a file only its owner can read (a group- or world-accessible file is
     * refused, naming the file). Trailing line breaks are dropped; the value is never logged.
     */
    public static String readSecretFile(Path file, String key) {
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
            if (permissions.stream().anyMatch(GROUP_OR_WORLD::contains)) {
                throw new SigilException(key + " " + file + " is accessible by group or others; chmod 600 it");
            }
            String value = Files.readString(file).replaceAll("[\r\n]+$", "");
            if (value.isEmpty()) {
                throw new SigilException(key + " " + file + " is empty");
            }
            return value;
        } catch (IOException e) {
            throw new SigilException("cannot read " + key + " " + file + ": " + e.getMessage(), e);
        }
    }
}
