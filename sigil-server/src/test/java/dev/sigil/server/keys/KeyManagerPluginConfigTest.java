package dev.sigil.server.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.core.plugin.PluginRegistry;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfig;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.config.ServerPlugins;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code key_manager}: one key manager plugin, chosen by {@code type} ({@code disk} when absent), its settings beside it. */
class KeyManagerPluginConfigTest {
    @TempDir
    Path dir;

    private ServerConfig load(String yaml) throws Exception {
        Path file = dir.resolve("server.yaml");
        Files.writeString(file, yaml);
        return ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir.resolve("home")), ConfigOverrides.none());
    }

    @Test
    void theTypeChoosesThePluginAndDiskIsTheDefault() throws Exception {
        assertThat(PluginRegistry.installed().plugins(ServerPlugins.KEY_MANAGER)).containsOnlyKeys("disk", "memory", "pkcs11");
        ServerConfig noType = load("key_manager:\n  dir: secrets\n");
        assertThat(noType.keyManager().type()).isEqualTo("disk");
        assertThat(noType.keyManager().settings(DiskKeyManagerPlugin.Settings.class).directory(noType.dataDir()))
                .isEqualTo(dir.resolve("secrets"));
        assertThat(load("key_manager:\n  type: memory\n").keyManager().type()).isEqualTo("memory");
    }

    @Test
    void theChosenKeyManagerIsBuiltAndKeepsItsKeysWhereConfigured() throws Exception {
        ServerConfig config = load("key_manager:\n  type: disk\n  dir: secrets\n");
        KeyManager keys = KeyManagerFactory.create(config.keyManager(), PluginRegistry.installed(),
                new KeyManagerPlugin.Context(config.dataDir()));
        keys.generate("probe", dev.sigil.core.crypto.KeyType.EC_P256);
        assertThat(Files.list(dir.resolve("secrets")).toList()).isNotEmpty();
    }

    @Test
    void keysOfAnotherKeyManagerAreRefusedWithTheirLine() {
        Path file = dir.resolve("server.yaml");
        assertThatThrownBy(() -> load("key_manager:\n  colour: red\n  type: disk\n"))
                .hasMessage(file + " line 2, column 3: unknown key 'colour' under 'key_manager'; valid keys: dir, type");
    }
}
