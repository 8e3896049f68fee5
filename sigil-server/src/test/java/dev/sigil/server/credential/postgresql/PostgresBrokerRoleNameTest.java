package dev.sigil.server.credential.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.credential.LeaseId;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PostgresBrokerRoleNameTest {
    private final LeaseId lease = LeaseId.random();

    @Test
    void theHintIsTheSanitisedPathAndTheLeaseIdEndsTheName() {
        RoleName role = RoleName.of("sigil_", SpiffeId.parse("spiffe://sigil.test/Billing/report-job.v2"), lease);

        assertThat(role.value()).isEqualTo("sigil_billing_report_job_v2_" + lease.value());
    }

    @Test
    void aLongPathKeepsItsTailWithin63Bytes() {
        SpiffeId holder = SpiffeId.parse("spiffe://sigil.test/" + "segment/".repeat(100) + "worker");

        RoleName role = RoleName.of("longest_prefix_x", holder, lease);

        assertThat(role.value().getBytes(StandardCharsets.UTF_8)).hasSizeLessThanOrEqualTo(63);
        assertThat(role.value()).startsWith("longest_prefix_x").endsWith("_worker_" + lease.value());
    }

    @Test
    void aNameParsesBackToItsLease() {
        RoleName role = RoleName.of("sigil_", SpiffeId.parse("spiffe://sigil.test/a/b"), lease);

        assertThat(RoleName.parse("sigil_", role.value())).contains(role);
        assertThat(RoleName.parse("sigil_", "sigil__" + lease.value())).map(RoleName::lease).contains(lease);
    }

    @Test
    void namesWithoutThePrefixOrALeaseSuffixAreNotOurs() {
        assertThat(RoleName.parse("sigil_", "other_x_" + lease.value())).isEmpty();
        assertThat(RoleName.parse("sigil_", "sigil_readonly")).isEmpty();
        assertThat(RoleName.parse("sigil_", "sigil_x_" + lease.value().toUpperCase())).isEmpty();
        assertThat(RoleName.parse("sigil_", "sigil_x_" + lease.value() + "1")).isEmpty();
        assertThat(RoleName.parse("sigil_", "sigil_" + "x".repeat(40) + "_" + lease.value())).isEmpty();
    }

    @Test
    void runsOfOtherCharactersBecomeOneUnderscoreAndNoneAtTheEnds() {
        assertThat(RoleName.hint(SpiffeId.parse("spiffe://sigil.test/__a--b__/x.c_"), 40)).isEqualTo("a_b_x_c");
        assertThat(RoleName.hint(SpiffeId.parse("spiffe://sigil.test/---"), 40)).isEmpty();
        assertThat(RoleName.hint(SpiffeId.parse("spiffe://sigil.test"), 40)).isEmpty();
    }

    @Test
    void aCutTailStartsWithALetterOrDigit() {
        assertThat(RoleName.hint(SpiffeId.parse("spiffe://sigil.test/abcdef/gh"), 3)).isEqualTo("gh");
        assertThat(RoleName.hint(SpiffeId.parse("spiffe://sigil.test/abcdef/gh"), 4)).isEqualTo("f_gh");
    }
}
