package dev.sigil.server.resource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProtectedResourceTest {
    @Test
    void uriIsCanonicalisedToLowerCaseSchemeAndHostWithoutTheDefaultPort() {
        assertThat(ProtectedResource.canonical("HTTPS://MCP.Example.COM:443/Tools")).isEqualTo("https://mcp.example.com/Tools");
        assertThat(ProtectedResource.canonical("https://mcp.example.com:8443")).isEqualTo("https://mcp.example.com:8443");
    }

    @Test
    void malformedUrisAreRefusedNamingWhatIsWrong() {
        assertThatThrownBy(() -> ProtectedResource.canonical("http://mcp.example.com/")).hasMessageContaining("https");
        assertThatThrownBy(() -> ProtectedResource.canonical("https://mcp.example.com/#x")).hasMessageContaining("no fragment");
        assertThatThrownBy(() -> ProtectedResource.canonical("https://mcp.example.com/?a=b")).hasMessageContaining("query");
        assertThatThrownBy(() -> ProtectedResource.canonical("mcp.example.com")).hasMessageContaining("absolute https");
        assertThatThrownBy(() -> ProtectedResource.canonical("https://a b")).hasMessageContaining("without spaces");
        assertThatThrownBy(() -> ProtectedResource.canonical("")).hasMessageContaining("required");
    }

    @Test
    void scopesMustBeOAuthScopeTokens() {
        assertThatThrownBy(() -> new ProtectedResource("https://mcp.example.com/", Optional.empty(), List.of("ok", "not ok"),
                Instant.EPOCH, "local:admin")).hasMessageContaining("'not ok' is malformed");
        assertThatThrownBy(() -> new ProtectedResource("https://mcp.example.com/", Optional.empty(), List.of(), Instant.EPOCH, "local:admin"))
                .hasMessageContaining("1 to 64 scopes");
        assertThat(new ProtectedResource("https://mcp.example.com/", Optional.of(" Tools "), List.of("a", "b", "a"), Instant.EPOCH,
                "local:admin")).satisfies(r -> {
                    assertThat(r.scopes()).containsExactly("a", "b");
                    assertThat(r.name()).contains("Tools");
                });
    }
}
