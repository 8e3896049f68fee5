package dev.sigil.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Keycloak as its users start it for a trial: the {@code org.keycloak:keycloak-quarkus-dist} zip from
 * Maven Central (downloaded once into {@code ~/.cache/sigil-bench}, checked against Central's SHA-1),
 * unpacked into the run's directory, {@code kc.sh start-dev} (plain HTTP, dev-file H2 database) on a
 * free loopback port, with a realm imported at start from a JSON file: one confidential client allowed
 * {@code client_credentials}, the realm's default signature algorithm ES256 and an ES256 (P-256) key
 * provider. {@link #start} returns only once a token issued to that client is ES256.
 */
final class KeycloakDistribution {
    static final String DEFAULT_VERSION = "26.7.3";
    private static final String CENTRAL = "https://repo1.maven.org/maven2/org/keycloak/keycloak-quarkus-dist/";
    private static final String REALM = "bench";
    private static final String CLIENT_ID = "bench";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The first start-dev re-augments the distribution and creates the database: minutes on a busy 2-core machine. */
    private static final int START_SECONDS = 900;

    private KeycloakDistribution() {}

    /** The cached distribution zip, downloaded from Maven Central first when it is not there yet. */
    static Path fetch(String version) throws IOException, InterruptedException {
        String cacheHome = System.getenv().getOrDefault("XDG_CACHE_HOME", System.getProperty("user.home") + "/.cache");
        Path cache = Files.createDirectories(Path.of(cacheHome, "sigil-bench"));
        String name = "keycloak-quarkus-dist-" + version + ".zip";
        Path zip = cache.resolve(name);
        if (Files.isRegularFile(zip)) {
            return zip;
        }
        URI uri = URI.create(CENTRAL + version + "/" + name);
        System.out.printf("downloading %s (once; cached in %s)%n", uri, cache);
        try (HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(30)).build()) {
            String expected = client.send(HttpRequest.newBuilder(URI.create(uri + ".sha1")).build(), ok(uri + ".sha1",
                    HttpResponse.BodyHandlers.ofString())).body().strip().split("\\s+")[0];
            Path part = Files.createTempFile(cache, name, ".part");
            try {
                client.send(HttpRequest.newBuilder(uri).build(), ok(uri.toString(), HttpResponse.BodyHandlers.ofFile(part,
                        java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)));
                String actual = sha1(part);
                if (!actual.equalsIgnoreCase(expected)) {
                    throw new IOException("downloaded " + name + " has SHA-1 " + actual + ", Maven Central publishes " + expected);
                }
                Files.move(part, zip, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(part);
            }
        }
        return zip;
    }

    /**
     * Unpacks {@code zip} under {@code dir}, writes the realm, starts {@code kc.sh start-dev} on
     * {@code port} (its output in {@code dir/keycloak.log}) through {@code reaper}, and waits until it
     * issues an ES256 token; returns the contender wrk loads.
     */
    static Contender start(Path zip, Path dir, int port, Path javaHome, ProcessReaper reaper) throws Exception {
        Path home = unpack(zip, dir);
        String secret = HexFormat.of().formatHex(randomBytes(16));
        Path imports = Files.createDirectories(home.resolve("data").resolve("import"));
        Files.writeString(imports.resolve(REALM + "-realm.json"), realm(secret));
        ProcessBuilder builder = new ProcessBuilder("bash", home.resolve("bin").resolve("kc.sh").toString(), "start-dev",
                "--http-host=127.0.0.1", "--http-port=" + port, "--http-management-port=" + ServerProcesses.freePort(),
                "--import-realm").directory(home.toFile()).redirectErrorStream(true).redirectOutput(dir.resolve("keycloak.log").toFile());
        builder.environment().put("JAVA_HOME", javaHome.toString());
        builder.environment().remove("JAVA_OPTS");
        Process process = reaper.start(builder);
        URI base = URI.create("http://127.0.0.1:" + port);
        String path = "/realms/" + REALM + "/protocol/openid-connect/token";
        String body = "grant_type=client_credentials&client_id=" + enc(CLIENT_ID) + "&client_secret=" + enc(secret);
        awaitEs256Token(process, base.resolve(path), body, dir.resolve("keycloak.log"));
        return new Contender("keycloak", base, path, List.of(body), process);
    }

    /** The realm: ES256 everywhere a token is signed, one confidential client with only client_credentials. */
    private static String realm(String secret) throws IOException {
        Map<String, Object> client = Map.of("clientId", CLIENT_ID, "enabled", true, "publicClient", false,
                "clientAuthenticatorType", "client-secret", "secret", secret, "serviceAccountsEnabled", true,
                "standardFlowEnabled", false, "directAccessGrantsEnabled", false, "implicitFlowEnabled", false,
                "attributes", Map.of("access.token.signed.response.alg", "ES256"));
        Map<String, Object> es256 = Map.of("name", "ecdsa-p256", "providerId", "ecdsa-generated", "subComponents", Map.of(),
                "config", Map.of("priority", List.of("200"), "ecdsaEllipticCurveKey", List.of("P-256"), "active", List.of("true"),
                        "enabled", List.of("true")));
        Map<String, Object> realm = new HashMap<>(Map.of("realm", REALM, "enabled", true, "defaultSignatureAlgorithm", "ES256",
                "accessTokenLifespan", 300, "clients", List.of(client),
                "components", Map.of("org.keycloak.keys.KeyProvider", List.of(es256))));
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(realm);
    }

    private static void awaitEs256Token(Process process, URI token, String body, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS);
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            HttpRequest request = HttpRequest.newBuilder(token).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("keycloak exited with status " + process.exitValue() + "; its log ends:\n" + ProcessReaper.logTail(log));
                }
                HttpResponse<String> answer;
                try {
                    answer = client.send(request, HttpResponse.BodyHandlers.ofString());
                } catch (IOException e) {
                    Thread.sleep(500); // not listening yet
                    continue;
                }
                if (answer.statusCode() == 404 || answer.statusCode() == 503) {
                    Thread.sleep(500); // the realm is still being imported
                    continue;
                }
                if (answer.statusCode() != 200) {
                    throw new IllegalStateException("keycloak answered the client_credentials request with " + answer.statusCode()
                            + ": " + clip(answer.body()));
                }
                String accessToken = JSON.readTree(answer.body()).path("access_token").asText();
                JsonNode header = JSON.readTree(Base64.getUrlDecoder().decode(accessToken.substring(0, Math.max(0, accessToken.indexOf('.')))));
                String alg = header.path("alg").asText();
                if (!alg.equals("ES256")) {
                    throw new IllegalStateException("keycloak signed its access token with '" + clip(alg) + "', expected ES256");
                }
                return;
            }
        }
        throw new IllegalStateException("keycloak issued no token within " + START_SECONDS + " s; its log ends:\n" + ProcessReaper.logTail(log));
    }

    /** Unpacks the zip's single top-level directory under {@code dir}; returns it. Entries escaping {@code dir} fail. */
    private static Path unpack(Path zip, Path dir) throws IOException {
        Path root = dir.toAbsolutePath().normalize();
        Path home = null;
        try (ZipFile file = new ZipFile(zip.toFile())) {
            for (ZipEntry entry : file.stream().toList()) {
                Path target = root.resolve(entry.getName()).normalize();
                if (!target.startsWith(root) || target.equals(root)) {
                    throw new IOException("zip entry '" + clip(entry.getName()) + "' lies outside " + root);
                }
                if (home == null) {
                    home = root.resolve(root.relativize(target).getName(0));
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                    continue;
                }
                Files.createDirectories(target.getParent());
                try (InputStream in = file.getInputStream(entry)) {
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                }
                if (target.getFileName().toString().endsWith(".sh")) {
                    target.toFile().setExecutable(true, true);
                }
            }
        }
        if (home == null || !Files.isRegularFile(home.resolve("bin").resolve("kc.sh"))) {
            throw new IOException(zip + " holds no bin/kc.sh under one top-level directory");
        }
        return home;
    }

    private static <T> HttpResponse.BodyHandler<T> ok(String what, HttpResponse.BodyHandler<T> handler) {
        return info -> {
            if (info.statusCode() != 200) {
                throw new IllegalStateException("GET " + what + " answered " + info.statusCode() + "; expected 200");
            }
            return handler.apply(info);
        };
    }

    private static String sha1(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-1");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String clip(String text) {
        String printable = text.replaceAll("\\p{Cntrl}", "?");
        return printable.length() <= 200 ? printable : printable.substring(0, 200) + "...";
    }

    private static byte[] randomBytes(int count) {
        byte[] bytes = new byte[count];
        new SecureRandom().nextBytes(bytes);
        return bytes;
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
