package dev.sigil.server.credential.postgresql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PasswordUtil;

class ScramVerifierTest {
    private static final SecureRandom RANDOM = new SecureRandom();

    @Test
    void theVerifierIsTheOneTheJdbcDriverComputes() {
        IntStream.range(0, 200).parallel().forEach(i -> {
            byte[] bytes = new byte[1 + i % 40];
            RANDOM.nextBytes(bytes);
            String password = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
            byte[] salt = new byte[16];
            RANDOM.nextBytes(salt);
            int iterations = 1 + i % 20;

            assertThat(ScramVerifier.of(password, salt, iterations))
                    .isEqualTo(PasswordUtil.encodeScramSha256(password.toCharArray(), iterations, salt));
        });
    }

    @Test
    void passwordsOutsideTheBrokersAlphabetAreRefusedNotHashedDifferently() {
        assertThatThrownBy(() -> ScramVerifier.of("pässword", new byte[16], 16)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ScramVerifier.of("", new byte[16], 16)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ScramVerifier.of("abc", new byte[16], 0)).hasMessageContaining("iterations 0");
    }
}
