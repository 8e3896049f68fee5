package dev.sigil.server.registration;

import static dev.sigil.server.registration.Entries.NODE;
import static dev.sigil.server.registration.Entries.draft;
import static dev.sigil.server.registration.Entries.id;
import static dev.sigil.server.registration.Entries.selectors;
import static dev.sigil.server.registration.EntryStoreContract.assertRejected;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.registration.RegistrationException.Reason;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class EntryDraftTest {

    @Test
    void selectorsAreDeduplicatedAndSorted() {
        EntryDraft draft = draft("/web", "unix:uid:1", "docker:image:x", "unix:uid:1");

        assertThat(draft.selectors()).extracting(Object::toString).containsExactly("docker:image:x", "unix:uid:1");
    }

    @Test
    void dnsNamesAreLowerCasedAndDeduplicatedInTheirOrder() {
        EntryDraft draft = draft("/web", "unix:uid:1").withDnsNames(List.of("WEB.example.org", "*.api.example.org", "web.example.org"));

        assertThat(draft.dnsNames()).containsExactly("web.example.org", "*.api.example.org");
    }

    @Test
    void federatedTrustDomainsAreDeduplicatedAndSorted() {
        EntryDraft draft = draft("/web", "unix:uid:1").withFederatesWith(
                List.of(new TrustDomain("b.example"), new TrustDomain("a.example"), new TrustDomain("b.example")));

        assertThat(draft.federatesWith()).extracting(TrustDomain::name).containsExactly("a.example", "b.example");
    }

    @Test
    void timesAreKeptToTheMillisecond() {
        EntryDraft draft = draft("/web", "unix:uid:1")
                .withX509SvidTtl(Duration.ofNanos(1_500_000))
                .withExpiresAt(Optional.of(Instant.parse("2027-01-01T00:00:00.123456Z")));

        assertThat(draft.x509SvidTtl()).isEqualTo(Duration.ofMillis(1));
        assertThat(draft.expiresAt()).contains(Instant.parse("2027-01-01T00:00:00.123Z"));
    }

    @Test
    void entryWithoutSelectorsIsRefused() {
        assertRejected(() -> EntryDraft.of(id("/web"), NODE, List.of(), "team"), Reason.INVALID_ARGUMENT)
                .hasMessageContaining("no selectors");
    }

    @Test
    void entryWithoutAnAccountableOwnerIsRefused() {
        assertRejected(() -> EntryDraft.of(id("/web"), NODE, selectors("unix:uid:1"), "  "), Reason.INVALID_ARGUMENT)
                .hasMessageContaining("owner");
        assertRejected(() -> EntryDraft.of(id("/web"), NODE, selectors("unix:uid:1"), null), Reason.INVALID_ARGUMENT);
    }

    @Test
    void spiffeIdWithoutAPathIsRefused() {
        assertRejected(() -> EntryDraft.of(id(""), NODE, selectors("unix:uid:1"), "team"), Reason.INVALID_ARGUMENT)
                .hasMessageContaining("'spiffe://example.org'");
    }

    @Test
    void negativeTtlIsRefused() {
        assertRejected(() -> draft("/web", "unix:uid:1").withJwtSvidTtl(Duration.ofSeconds(-1)), Reason.INVALID_ARGUMENT)
                .hasMessageContaining("jwt svid ttl");
    }

    @Test
    void malformedDnsNamesAreRefusedByName() {
        for (String bad : List.of("", "-web.example.org", "web..example.org", "web_1.example.org", "a.*.example.org",
                "x".repeat(64) + ".example.org", "web.example.org.")) {
            assertRejected(() -> draft("/web", "unix:uid:1").withDnsNames(List.of(bad)), Reason.INVALID_ARGUMENT)
                    .hasMessageContaining("dns name '" + bad + "'");
        }
    }

    @Test
    void tooManySelectorsAreRefused() {
        String[] selectors = new String[EntryDraft.MAX_SELECTORS + 1];
        for (int i = 0; i < selectors.length; i++) {
            selectors[i] = "unix:uid:" + i;
        }

        assertRejected(() -> draft("/web", selectors), Reason.INVALID_ARGUMENT).hasMessageContaining("at most " + EntryDraft.MAX_SELECTORS);
    }

    @Test
    void controlCharactersInTheHintAreRefused() {
        assertRejected(() -> draft("/web", "unix:uid:1").withHint("a\nb"), Reason.INVALID_ARGUMENT)
                .hasMessageContaining("hint");
    }
}
