package dev.sigil.server.authority;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sigil.testkit.Refusals;
import java.security.KeyFactory;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Any bytes sent as a CSR either yield a supported public key whose possession the CSR proved, or are
 * refused with {@link CsrRejectedException} (a client error) and a presentable message: never another
 * exception, which the agent API and the admin API would answer as a server fault. Seeds are DER CSRs
 * of supported and unsupported keys; inputs that once failed are kept under {@code CsrVerifierFuzzTestInputs/}.
 */
class CsrVerifierFuzzTest {

    @FuzzTest(maxDuration = "15s")
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void anyBytesAreAProvenKeyOrRefusedCleanly(byte[] der) throws Exception {
        try {
            CsrVerifier.ProvenKey key = CsrVerifier.verify(der);
            var publicKey = KeyFactory.getInstance(key.rsa() ? "RSA" : "EC").generatePublic(new X509EncodedKeySpec(key.encoded()));
            if (publicKey instanceof RSAPublicKey rsa) {
                assertThat(rsa.getModulus().bitLength()).isIn(2048, 3072, 4096);
            } else {
                assertThat(((ECPublicKey) publicKey).getParams().getCurve().getField().getFieldSize()).isIn(256, 384);
            }
        } catch (CsrRejectedException e) {
            Refusals.assertPresentable(e);
        }
    }
}
