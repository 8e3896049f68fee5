package dev.sigil.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.crypto.impl.ECDSA;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.sigil.core.crypto.CryptoProviders;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The upper bound of a token exchange in this design: the JDK's own HTTPS server
 * ({@link HttpsServer}, TLS with an EC P-256 certificate, as Sigil's token endpoint) doing only what an
 * exchange cannot skip — verify the subject JWT-SVID (ES256 signature, expiry, audience) and sign an
 * ES256 access token — through the same crypto provider as Sigil ({@link CryptoProviders}: the native
 * one when it loads). No policy, no database, no audit. Run in its own process by
 * {@link KeycloakSideBySideBench}:
 *
 * <pre>
 * java -cp sigil-bench.jar dev.sigil.bench.RawJdkTokenServer PORT SUBJECT_TOKEN_FILE COUNT THREADS
 * </pre>
 *
 * It mints COUNT subject JWT-SVIDs with its own issuer key, writes them one per line to
 * SUBJECT_TOKEN_FILE, then serves {@code POST /oauth2/token} on 127.0.0.1:PORT with THREADS handler
 * threads and prints {@code ready} on its standard output. Each signing and verifying thread reuses one
 * initialised {@link Signature}, as Sigil's signing pool does.
 */
public final class RawJdkTokenServer {
    static final String AUDIENCE = "https://raw.bench/oauth2/token";
    private static final String SUBJECT = "spiffe://example.org/web";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder UNB64 = Base64.getUrlDecoder();

    private final ThreadLocal<Signature> verifier;
    private final ThreadLocal<Signature> signer;
    private final byte[] accessHeader = B64.encode("{\"alg\":\"ES256\",\"kid\":\"access\",\"typ\":\"at+jwt\"}".getBytes(StandardCharsets.UTF_8));

    private RawJdkTokenServer(KeyPair subjectIssuer, KeyPair accessSigner) {
        this.verifier = ThreadLocal.withInitial(() -> initialised(s -> s.initVerify(subjectIssuer.getPublic())));
        this.signer = ThreadLocal.withInitial(() -> initialised(s -> s.initSign(accessSigner.getPrivate())));
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            throw new IllegalArgumentException("usage: RawJdkTokenServer PORT SUBJECT_TOKEN_FILE COUNT THREADS");
        }
        int port = Integer.parseInt(args[0]);
        int count = Integer.parseInt(args[2]);
        int threads = Integer.parseInt(args[3]);
        KeyPair subjectIssuer = ecKey();
        RawJdkTokenServer raw = new RawJdkTokenServer(subjectIssuer, ecKey());
        List<String> subjects = new ArrayList<>();
        long now = Instant.now().getEpochSecond();
        Signature subjectSigner = CryptoProviders.signature("SHA256withECDSA");
        subjectSigner.initSign(subjectIssuer.getPrivate());
        for (int i = 0; i < count; i++) {
            String header = B64.encodeToString("{\"alg\":\"ES256\",\"kid\":\"subject\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
            String claims = B64.encodeToString(JSON.writeValueAsBytes(java.util.Map.of("sub", SUBJECT, "aud", List.of(AUDIENCE),
                    "iat", now, "exp", now + 3_600, "jti", UUID.randomUUID().toString())));
            subjectSigner.update((header + "." + claims).getBytes(StandardCharsets.US_ASCII));
            subjects.add(header + "." + claims + "." + B64.encodeToString(ECDSA.transcodeSignatureToConcat(subjectSigner.sign(), 64)));
        }
        Files.write(Path.of(args[1]), subjects);

        HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1024);
        server.setHttpsConfigurator(new HttpsConfigurator(tls()));
        server.createContext("/oauth2/token", raw::handle);
        server.setExecutor(Executors.newFixedThreadPool(threads));
        server.start();
        System.out.println("ready");
        System.out.flush();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.US_ASCII);
            byte[] answer;
            int status;
            try {
                JsonNode claims = verify(formValue(body, "subject_token"));
                answer = ("{\"access_token\":\"" + sign(claims.path("sub").asText()) + "\",\"issued_token_type\":"
                        + "\"urn:ietf:params:oauth:token-type:access_token\",\"token_type\":\"Bearer\",\"expires_in\":300}")
                        .getBytes(StandardCharsets.US_ASCII);
                status = 200;
            } catch (GeneralSecurityException | JOSEException | RuntimeException e) {
                answer = "{\"error\":\"invalid_grant\"}".getBytes(StandardCharsets.US_ASCII);
                status = 400;
            }
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            exchange.sendResponseHeaders(status, answer.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(answer);
            }
        }
    }

    /** The subject token's claims when its ES256 signature verifies, it has not expired and its audience is ours. */
    private JsonNode verify(String token) throws GeneralSecurityException, JOSEException, IOException {
        int first = token.indexOf('.');
        int last = token.lastIndexOf('.');
        if (first < 0 || last == first) {
            throw new GeneralSecurityException("not a compact JWS");
        }
        JsonNode header = JSON.readTree(UNB64.decode(token.substring(0, first)));
        if (!header.path("alg").asText().equals("ES256")) {
            throw new GeneralSecurityException("alg is not ES256");
        }
        Signature s = verifier.get();
        s.update(token.substring(0, last).getBytes(StandardCharsets.US_ASCII));
        if (!s.verify(ECDSA.transcodeSignatureToDER(UNB64.decode(token.substring(last + 1))))) {
            throw new GeneralSecurityException("bad signature");
        }
        JsonNode claims = JSON.readTree(UNB64.decode(token.substring(first + 1, last)));
        if (claims.path("exp").asLong() <= Instant.now().getEpochSecond()) {
            throw new GeneralSecurityException("expired");
        }
        boolean audience = false;
        for (JsonNode aud : claims.path("aud")) {
            audience |= aud.asText().equals(AUDIENCE);
        }
        if (!audience) {
            throw new GeneralSecurityException("wrong audience");
        }
        return claims;
    }

    private String sign(String subject) throws GeneralSecurityException, JOSEException, IOException {
        long now = Instant.now().getEpochSecond();
        byte[] claims = B64.encode(JSON.writeValueAsBytes(java.util.Map.of("iss", "https://raw.bench", "sub", subject,
                "aud", "https://api", "iat", now, "exp", now + 300, "jti", UUID.randomUUID().toString())));
        String signingInput = new String(accessHeader, StandardCharsets.US_ASCII) + "." + new String(claims, StandardCharsets.US_ASCII);
        Signature s = signer.get();
        s.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        return signingInput + "." + B64.encodeToString(ECDSA.transcodeSignatureToConcat(s.sign(), 64));
    }

    private static String formValue(String body, String name) {
        for (String pair : body.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                return URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        throw new IllegalArgumentException("no " + name);
    }

    /** TLS with a self-signed EC P-256 certificate. */
    private static SSLContext tls() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = generator.generateKeyPair();
        Instant now = Instant.now();
        X500Name name = new X500Name("CN=127.0.0.1");
        X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(name,
                BigInteger.valueOf(now.toEpochMilli()), Date.from(now.minusSeconds(60)), Date.from(now.plusSeconds(86_400)), name,
                pair.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] password = "raw".toCharArray();
        store.setKeyEntry("tls", pair.getPrivate(), password, new X509Certificate[] {certificate});
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, password);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys.getKeyManagers(), null, null);
        return context;
    }

    private static KeyPair ecKey() throws GeneralSecurityException {
        KeyPairGenerator generator = CryptoProviders.keyPairGenerator("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private interface Init {
        void apply(Signature signature) throws GeneralSecurityException;
    }

    private static Signature initialised(Init init) {
        try {
            Signature signature = CryptoProviders.signature("SHA256withECDSA");
            init.apply(signature);
            return signature;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot initialise an ES256 signature: " + e.getMessage(), e);
        }
    }
}
