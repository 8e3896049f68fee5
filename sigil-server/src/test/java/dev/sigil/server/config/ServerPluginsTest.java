package dev.sigil.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.plugin.PluginKind;
import dev.sigil.core.plugin.PluginRegistry;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** What every plugin the server installs must be, whatever its kind. */
class ServerPluginsTest {
    @Test
    void everyInstalledServerPluginIsWellFormed() {
        for (PluginKind kind : ServerPlugins.ALL) {
            assertThat(PluginRegistry.installed().plugins(kind)).as(kind.section()).isNotEmpty().allSatisfy((type, plugin) -> {
                assertThat(type).matches("[a-z][a-z0-9_]{0,31}");
                assertThat(plugin.kind()).isEqualTo(kind);
                assertThat(plugin.settingsType().isRecord()).isTrue();
                assertThat(Arrays.stream(plugin.getClass().getConstructors()).anyMatch(c -> c.getParameterCount() == 0))
                        .as("ServiceLoader needs a public no-argument constructor").isTrue();
            });
        }
    }
}
