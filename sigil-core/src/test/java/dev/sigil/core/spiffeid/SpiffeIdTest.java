package dev.sigil.core.spiffeid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SpiffeIdTest {

    @Test
    void wellFormedIdParsesIntoTrustDomainAndPath() {
        SpiffeId id = SpiffeId.parse("spiffe://example.org/ns/prod/sa/web-1.a_b");

        assertThat(id.trustDomain()).isEqualTo(new TrustDomain("example.org"));
        assertThat(id.path()).isEqualTo("/ns/prod/sa/web-1.a_b");
        assertThat(id).hasToString("spiffe://example.org/ns/prod/sa/web-1.a_b");
    }

    @Test
    void trustDomainIdHasAnEmptyPath() {
        assertThat(SpiffeId.parse("spiffe://example.org").path()).isEmpty();
    }

    @Test
    void pathMayUseUpperCaseButTrustDomainMayNot() {
        assertThat(SpiffeId.parse("spiffe://example.org/Web").path()).isEqualTo("/Web");
        assertThatThrownBy(() -> SpiffeId.parse("spiffe://Example.org/web"))
                .isInstanceOf(InvalidSpiffeIdException.class)
                .hasMessageContaining("trust domain 'Example.org'")
                .hasMessageContaining("'E'");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "http://example.org/web", "SPIFFE://example.org/web", "spiffe:/example.org", "example.org/web", "spiffe://",
        "spiffe:///web"})
    void wrongSchemeOrMissingTrustDomainIsRefused(String text) {
        assertThatThrownBy(() -> SpiffeId.parse(text)).isInstanceOf(InvalidSpiffeIdException.class);
    }

    @Test
    void errorsNameTheOffendingPart() {
        assertThatThrownBy(() -> SpiffeId.parse("spiffe://example.org/web/")).hasMessageContaining("trailing");
        assertThatThrownBy(() -> SpiffeId.parse("spiffe://example.org//web")).hasMessageContaining("empty segment");
        assertThatThrownBy(() -> SpiffeId.parse("spiffe://example.org/a/../b")).hasMessageContaining("'..' segment");
        assertThatThrownBy(() -> SpiffeId.parse("spiffe://example.org/./b")).hasMessageContaining("'.' segment");
        assertThatThrownBy(() -> SpiffeId.parse("spiffe://example.org/we b")).hasMessageContaining("segment 'we b'");
        assertThatThrownBy(() -> SpiffeId.parse("spiffe://example.org:8080/web")).hasMessageContaining("port");
        assertThatThrownBy(() -> SpiffeId.parse("spiffe://user@example.org/web")).hasMessageContaining("user info");
        assertThatThrownBy(() -> SpiffeId.parse("spiffe://example.org/web?x=1")).hasMessageContaining("query");
        assertThatThrownBy(() -> SpiffeId.parse("spiffe://example.org/web#x")).hasMessageContaining("fragment");
        assertThatThrownBy(() -> SpiffeId.parse("spiffe://example.org/%41")).hasMessageContaining("'%'");
    }

    @Test
    void idsLongerThan2048BytesAreRefused() {
        String longPath = "/" + "a".repeat(2048 - "spiffe://example.org/".length());
        assertThat(SpiffeId.parse("spiffe://example.org" + longPath).toString()).hasSize(2048);
        assertThatThrownBy(() -> SpiffeId.parse("spiffe://example.org" + longPath + "a"))
                .hasMessageContaining("at most 2048");
    }

    @Test
    void trustDomainsLongerThan255CharactersAreRefused() {
        assertThat(new TrustDomain("a".repeat(255)).name()).hasSize(255);
        assertThatThrownBy(() -> new TrustDomain("a".repeat(256))).hasMessageContaining("at most 255");
    }

    @Test
    void trustDomainParsesFromBareNameOrId() {
        assertThat(TrustDomain.parse("example.org")).isEqualTo(TrustDomain.parse("spiffe://example.org/x"));
        assertThat(new TrustDomain("example.org").id("/web")).isEqualTo(SpiffeId.parse("spiffe://example.org/web"));
    }

    @Test
    void equalIdsCompareEqual() {
        assertThat(SpiffeId.parse("spiffe://a.org/x")).isEqualTo(SpiffeId.parse("spiffe://a.org/x"))
                .isNotEqualTo(SpiffeId.parse("spiffe://a.org/y"));
        assertThat(SpiffeId.parse("spiffe://a.org/x").memberOf(new TrustDomain("a.org"))).isTrue();
    }
}
