package dev.sigil.server.authority;

import dev.sigil.core.spiffeid.SpiffeId;
import java.util.List;
import java.util.Optional;

/**
 * The JSON claims of a JWT-SVID, written directly: the claim set is fixed and small, and a general
 * JSON serializer costs as much as the signature. Strings are escaped per RFC 8259 section 7.
 */
final class JwtClaims {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private JwtClaims() {}

    /** {@code {"sub":...,"aud":...,"exp":...,"iat":...[,"iss":...]}}; one audience is a string, several an array. */
    static String json(SpiffeId subject, Audience audience, long expiresAtSeconds, long issuedAtSeconds, Optional<String> issuer) {
        return json(subject, audience, expiresAtSeconds, issuedAtSeconds, issuer, Optional.empty());
    }

    /** As above, plus a {@code status} claim given as serialized JSON (built by the server, never from request input). */
    static String json(SpiffeId subject, Audience audience, long expiresAtSeconds, long issuedAtSeconds, Optional<String> issuer,
                       Optional<String> statusJson) {
        StringBuilder json = new StringBuilder(160);
        json.append("{\"sub\":");
        quote(json, subject.toString());
        json.append(",\"aud\":");
        List<String> values = audience.values();
        if (values.size() == 1) {
            quote(json, values.get(0));
        } else {
            json.append('[');
            for (int i = 0; i < values.size(); i++) {
                if (i > 0) {
                    json.append(',');
                }
                quote(json, values.get(i));
            }
            json.append(']');
        }
        json.append(",\"exp\":").append(expiresAtSeconds).append(",\"iat\":").append(issuedAtSeconds);
        if (issuer.isPresent()) {
            json.append(",\"iss\":");
            quote(json, issuer.get());
        }
        statusJson.ifPresent(status -> json.append(",\"status\":").append(status));
        return json.append('}').toString();
    }

    static void quote(StringBuilder out, String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
            } else {
                out.append(c);
            }
        }
        out.append('"');
    }
}
