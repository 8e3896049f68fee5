package dev.sigil.server.token;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.time.Instant;
import java.util.Date;

/** JWT-SVIDs for verifier tests: ES256, signed by {@code key} under its key id, valid for 5 minutes from {@code now}. */
final class TestJwtSvids {
    private TestJwtSvids() {
    }

    static String es256(ECKey key, String subject, String audience, Instant now) throws Exception {
        JWTClaimsSet claims = new JWTClaimsSet.Builder().subject(subject).audience(audience).issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(300))).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(), claims);
        jwt.sign(new ECDSASigner(key));
        return jwt.serialize();
    }
}
