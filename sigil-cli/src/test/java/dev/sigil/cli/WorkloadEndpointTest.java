package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sigil.server.config.ConfigEnvironment;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkloadEndpointTest {
    private static ConfigEnvironment env(Map<String, String> variables) {
        return ConfigEnvironment.of(variables, Path.of("/home/test"));
    }

    @Test
    void bothUnixAddressFormsNameTheSocketPath() {
        assertThat(WorkloadEndpoint.parse("unix:///run/spire/api.sock").socket()).isEqualTo(Path.of("/run/spire/api.sock"));
        assertThat(WorkloadEndpoint.parse("unix:/run/spire/api.sock").socket()).isEqualTo(Path.of("/run/spire/api.sock"));
    }

    @Test
    void flagWinsOverEnvironmentWhichWinsOverDefault() {
        Map<String, String> variables = Map.of("SPIFFE_ENDPOINT_SOCKET", "unix:///env/api.sock");

        assertThat(WorkloadEndpoint.resolve(Path.of("/flag/api.sock"), env(variables)).socket()).isEqualTo(Path.of("/flag/api.sock"));
        assertThat(WorkloadEndpoint.resolve(null, env(variables)).socket()).isEqualTo(Path.of("/env/api.sock"));
        assertThat(WorkloadEndpoint.resolve(null, env(Map.of())).socket()).isEqualTo(Path.of("/tmp/sigil-agent/public/api.sock"));
    }

    @Test
    void otherSchemesAreRefusedNamingTheAddress() {
        assertThatThrownBy(() -> WorkloadEndpoint.parse("tcp://127.0.0.1:8081"))
                .isInstanceOf(CliException.class).hasMessageContaining("'tcp://127.0.0.1:8081' uses scheme 'tcp'");
    }

    @Test
    void unixAddressesWithHostRelativePathOrQueryAreRefused() {
        assertThatThrownBy(() -> WorkloadEndpoint.parse("unix://host/api.sock")).hasMessageContaining("names a host ('host')");
        assertThatThrownBy(() -> WorkloadEndpoint.parse("unix:api.sock")).hasMessageContaining("has no absolute socket path");
        assertThatThrownBy(() -> WorkloadEndpoint.parse("unix:///api.sock?x=1")).hasMessageContaining("query or fragment");
        assertThatThrownBy(() -> WorkloadEndpoint.parse("/run/api.sock")).hasMessageContaining("has no scheme");
    }
}
