package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.agent.AgentRuntime;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.SigilServer;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.testkit.Eventually;
import io.spiffe.bundle.x509bundle.X509Bundle;
import io.spiffe.exception.BundleNotFoundException;
import io.spiffe.svid.x509svid.X509Svid;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.DefaultX509Source;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.X509Source;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two Sigil trust domains on this machine, federated both ways through the real path: two servers, each
 * with its bundle endpoint (a.test with the https_web profile, its certificate from a test web CA that
 * b.test's server trusts; b.test with https_spiffe, its server's own SVID), relationships created with
 * the CLI, a real agent per trust domain attested with a join token and serving this test's uid, and
 * workloads that hold only what java-spiffe fetched from their agent's Workload API.
 */
@Timeout(value = 55, unit = TimeUnit.SECONDS)
class FederationEndToEndTest {
    private static final String WEB = "spiffe://a.test/web";
    private static final String API = "spiffe://b.test/api";
    private static final Duration HINT = Duration.ofSeconds(2);
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path dir;
    private WebCa webCa;
    private OffsetClock clockA;
    private Domain a;
    private Domain b;

    /** A clock that runs with real time, plus an offset the test moves forward (server a.test's rotation). */
    static final class OffsetClock extends Clock {
        private volatile Duration offset = Duration.ZERO;

        void advance(Duration by) {
            offset = offset.plus(by);
        }

        @Override
        public Instant instant() {
            return Instant.now().plus(offset);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    /** One trust domain: its server, data directory and agent. */
    record Domain(String name, SigilServer server, Path data, AgentRuntime agent) {
        String socket() {
            return "unix:" + agent.workloadApiSocket();
        }
    }

    @BeforeEach
    void start() throws Exception {
        webCa = WebCa.create();
        Path cert = dir.resolve("a-web/fullchain.pem");
        Path key = dir.resolve("a-web/privkey.pem");
        webCa.issueLocalhost(cert, key);
        clockA = new OffsetClock();
        SigilServer.FederationSettings settingsA = new SigilServer.FederationSettings(Optional.empty(), Duration.ofSeconds(1),
                Duration.ofHours(1));
        SigilServer.FederationSettings settingsB = new SigilServer.FederationSettings(Optional.of(List.of(webCa.certificate)),
                Duration.ofSeconds(1), Duration.ofHours(1));
        a = domain("a.test", WEB, """
                  web_tls:
                    cert_file: %s
                    key_file: %s
                """.formatted(cert, key), clockA, settingsA);
        b = domain("b.test", API, "", Clock.systemUTC(), settingsB);
    }

    @AfterEach
    void stop() {
        for (Domain domain : new Domain[] {a, b}) {
            if (domain != null) {
                domain.agent().close();
                domain.server().close();
            }
        }
    }

    @Test
    void workloadsOfFederatedTrustDomainsBuildMutualTlsAndExchangeTokensUnderPolicy() throws Exception {
        try (X509Source sourceA = source(a); X509Source sourceB = source(b)) {
            // not federated yet: neither workload has the other trust domain's bundle, and the handshake fails
            assertThatThrownBy(() -> sourceA.getBundleForTrustDomain(io.spiffe.spiffeid.TrustDomain.parse("b.test")))
                    .isInstanceOf(BundleNotFoundException.class);
            assertThat(handshake(sourceA, sourceB)).startsWith("failed");

            federateBothWays();
            Eventually.within(Duration.ofSeconds(20), () -> {
                assertThat(hasBundle(sourceA, "b.test")).as("a.test's workload has b.test's bundle").isTrue();
                assertThat(hasBundle(sourceB, "a.test")).as("b.test's workload has a.test's bundle").isTrue();
            });
            assertThat(handshake(sourceA, sourceB)).isEqualTo("server saw " + WEB + ", client saw " + API);
        }

        CliHarness.Result shown = cli().run("federation", "show", "--data-dir", b.data().toString(), "--trust-domain", "a.test");
        assertThat(shown.exitCode()).as(shown.err()).isZero();
        assertThat(shown.out()).contains("https_web").contains("State").contains("ok");

        // a.test's JWT-SVID at b.test's token service: refused while b.test's policy names only its own trust domain
        String svid = jwtSvid(a, b.server().tokenAudience());
        applyPolicy(b, """
                rules:
                  - name: local-workloads
                    effect: allow
                    subject:
                      spiffe_id: spiffe://b.test/*
                    actions: [token:exchange]
                    resources: ["*"]
                """);
        String denied = exchange(b, svid, "https://api.b.test");
        assertThat(denied).startsWith("HTTP/1.1 403").contains("access_denied");

        applyPolicy(b, """
                rules:
                  - name: local-workloads
                    effect: allow
                    subject:
                      spiffe_id: spiffe://b.test/*
                    actions: [token:exchange]
                    resources: ["*"]
                  - name: partner-web
                    effect: allow
                    subject:
                      spiffe_id: spiffe://a.test/web
                    actions: [token:exchange]
                    resources: [https://api.b.test]
                """);
        String allowed = exchange(b, svid, "https://api.b.test");
        assertThat(allowed).as(allowed).startsWith("HTTP/1.1 200").contains("access_token");
        JsonNode token = json.readTree(allowed.substring(allowed.indexOf('{')));
        assertThat(com.nimbusds.jwt.SignedJWT.parse(token.path("access_token").asText()).getJWTClaimsSet().getSubject()).isEqualTo(WEB);

        // once b.test stops federating with a.test, a.test's tokens are refused whatever the policy says
        CliHarness.Result deleted = cli().run("federation", "delete", "--data-dir", b.data().toString(), "--trust-domain", "a.test");
        assertThat(deleted.exitCode()).as(deleted.err()).isZero();
        Eventually.within(Duration.ofSeconds(10), () ->
                assertThat(exchange(b, svid, "https://api.b.test")).startsWith("HTTP/1.1 400").contains("does not federate with"));
    }

    @Test
    void aRotatedAuthorityOfOneTrustDomainReachesTheOthersWorkloadsWithinOneRefreshHint() throws Exception {
        federateBothWays();
        try (X509Source sourceB = source(b)) {
            Eventually.within(Duration.ofSeconds(20), () -> assertThat(hasBundle(sourceB, "a.test")).isTrue());
            Set<X509Certificate> before = Set.copyOf(sourceB.getBundleForTrustDomain(io.spiffe.spiffeid.TrustDomain.parse("a.test"))
                    .getX509Authorities());
            long sequence = a.server().authority().bundle().sequence();

            // half the CA's 24 h lifetime later, a.test prepares its next authority and publishes it
            clockA.advance(Duration.ofHours(12).plusMinutes(1));
            Eventually.within(Duration.ofSeconds(15), () -> assertThat(a.server().authority().bundle().sequence()).isGreaterThan(sequence));
            Instant published = Instant.now();
            Set<X509Certificate> rotated = Set.copyOf(a.server().authority().bundle().x509Authorities());
            assertThat(rotated).hasSizeGreaterThan(before.size());

            // b.test's server fetches at most one hint after its last fetch; its agent syncs every second
            Eventually.within(HINT.plusSeconds(8), () -> assertThat(Set.copyOf(sourceB.getBundleForTrustDomain(
                    io.spiffe.spiffeid.TrustDomain.parse("a.test")).getX509Authorities())).isEqualTo(rotated));
            Duration took = Duration.between(published, Instant.now());
            assertThat(took).as("from publication to b.test's workload").isLessThan(HINT.plusSeconds(8));
        }
        JsonNode relationship = admin(b).get("/v1/federation/a.test").json();
        assertThat(relationship.path("bundle_sequence").asLong()).isEqualTo(a.server().authority().bundle().sequence());
        JsonNode audit = admin(b).get("/v1/audit", Map.of("action", List.of("federation.bundle_updated"))).json();
        assertThat(audit.path("results").size()).isGreaterThanOrEqualTo(2);
    }

    private void federateBothWays() throws Exception {
        Path bundleB = dir.resolve("b-bundle.json");
        Files.writeString(bundleB, b.server().authority().bundle().toJson());
        CliHarness.Result onA = cli().run("federation", "create", "--data-dir", a.data().toString(), "--trust-domain", "b.test",
                "--bundle-endpoint-url", "https://127.0.0.1:" + b.server().bundleEndpointAddress().orElseThrow().getPort() + "/",
                "--bundle-endpoint-profile", "https_spiffe", "--endpoint-spiffe-id", "spiffe://b.test/sigil/server",
                "--trust-domain-bundle", bundleB.toString());
        assertThat(onA.exitCode()).as(onA.err()).isZero();
        CliHarness.Result onB = cli().run("federation", "create", "--data-dir", b.data().toString(), "--trust-domain", "a.test",
                "--bundle-endpoint-url", "https://localhost:" + a.server().bundleEndpointAddress().orElseThrow().getPort() + "/",
                "--bundle-endpoint-profile", "https_web");
        assertThat(onB.exitCode()).as(onB.err()).isZero();
    }

    private Domain domain(String name, String workload, String webTls, Clock clock, SigilServer.FederationSettings federation)
            throws Exception {
        Path data = dir.resolve(name + "-server");
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: %s
                log_level: warn
                bundle_endpoint:
                  port: 0
                  refresh_hint: 2s
                %s
                agent_api:
                  port: 0
                token_endpoint:
                  port: 0
                """.formatted(data, name, webTls.stripTrailing()));
        var config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
        SigilServer server = SigilServer.start(config, clock, SigilServer.Options.defaults().withFederation(federation));
        JsonNode token;
        String other = name.equals("a.test") ? "b.test" : "a.test";
        try (AdminClient admin = new AdminClient(server.admin().socketPath())) {
            token = admin.post("/v1/join-tokens", Map.of("ttl", 600)).json();
            String agentId = "spiffe://" + name + "/sigil/agent/join_token/" + token.path("id").asText();
            long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
            admin.post("/v1/entries", Map.of("spiffe_id", workload, "parent_id", agentId,
                    "selectors", List.of(Map.of("type", "unix", "value", "uid:" + uid)), "owner", "team-" + name,
                    "federates_with", List.of(other)));
        }
        Path agentDir = Files.createDirectories(dir.resolve(name + "-agent"));
        Files.setPosixFilePermissions(agentDir, PosixFilePermissions.fromString("rwx------"));
        Path bundle = agentDir.resolve("bundle.pem");
        Files.writeString(bundle, server.authority().bundle().x509AuthoritiesPem());
        AgentConfig agentConfig = new AgentConfig(agentDir, new TrustDomain(name),
                new AgentConfig.ServerAddress("127.0.0.1", server.agentApiAddress().getPort()),
                new AgentConfig.TrustBootstrap.BundleFile(bundle),
                dev.sigil.agent.attestor.JoinTokenAttestorClientPlugin.choice(token.path("token").asText()),
                agentDir.resolve("public/api.sock"), Duration.ofSeconds(1), AgentConfig.LogLevel.WARN);
        AgentRuntime agent = AgentRuntime.start(agentConfig, Clock.systemUTC());
        Eventually.within(Duration.ofSeconds(30), () -> assertThat(agent.agent().cache().identityCount()).as("identities synced").isPositive());
        return new Domain(name, server, data, agent);
    }

    private CliHarness cli() {
        return new CliHarness(Map.of(), dir);
    }

    private static AdminClient admin(Domain domain) {
        return new AdminClient(domain.server().admin().socketPath());
    }

    private void applyPolicy(Domain domain, String yaml) {
        try (AdminClient admin = admin(domain)) {
            admin.put("/v1/policy", Map.of("yaml", yaml));
        }
    }

    private static X509Source source(Domain domain) throws Exception {
        return DefaultX509Source.newSource(DefaultX509Source.X509SourceOptions.builder().spiffeSocketPath(domain.socket())
                .initTimeout(Duration.ofSeconds(20)).build());
    }

    private static boolean hasBundle(X509Source source, String trustDomain) {
        try {
            return !source.getBundleForTrustDomain(io.spiffe.spiffeid.TrustDomain.parse(trustDomain)).getX509Authorities().isEmpty();
        } catch (BundleNotFoundException e) {
            return false;
        }
    }

    private static String jwtSvid(Domain domain, String audience) throws Exception {
        try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient(
                DefaultWorkloadApiClient.ClientOptions.builder().spiffeSocketPath(domain.socket()).build())) {
            return client.fetchJwtSvid(audience).getToken();
        }
    }

    /**
     * One mutual-TLS connection: b.test's workload serves with its SVID, a.test's connects with its own;
     * each trusts the peer only through the bundle of the peer's trust domain that its X509Source holds.
     */
    private static String handshake(X509Source client, X509Source server) throws Exception {
        SSLContext serverTls = SpiffeTls.context(server);
        SSLContext clientTls = SpiffeTls.context(client);
        try (SSLServerSocket listener = (SSLServerSocket) serverTls.getServerSocketFactory().createServerSocket(0, 1,
                InetAddress.getLoopbackAddress())) {
            listener.setNeedClientAuth(true);
            CompletableFuture<String> seenByServer = new CompletableFuture<>();
            Thread.ofPlatform().daemon().start(() -> {
                try (SSLSocket accepted = (SSLSocket) listener.accept()) {
                    accepted.setSoTimeout(10_000);
                    accepted.startHandshake();
                    String peer = SpiffeTlsPeer.spiffeId((X509Certificate) accepted.getSession().getPeerCertificates()[0]);
                    seenByServer.complete(peer);
                    accepted.getOutputStream().write(1);
                    accepted.getOutputStream().flush();
                } catch (Exception e) {
                    seenByServer.complete("failed (server): " + e);
                }
            });
            String seenByClient;
            try (SSLSocket socket = (SSLSocket) clientTls.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
                    listener.getLocalPort())) {
                socket.setSoTimeout(10_000);
                socket.startHandshake();
                seenByClient = SpiffeTlsPeer.spiffeId((X509Certificate) socket.getSession().getPeerCertificates()[0]);
                // TLS 1.3: the server judges the client's certificate after the client's handshake returns; a refusal arrives here
                socket.getInputStream().read();
            } catch (Exception e) {
                return "failed (client): " + e + "; " + seenByServer.get(20, TimeUnit.SECONDS);
            }
            return "server saw " + seenByServer.get(20, TimeUnit.SECONDS) + ", client saw " + seenByClient;
        }
    }

    /** RFC 8693 exchange at the token endpoint of {@code domain} over HTTPS; the raw HTTP response. */
    private static String exchange(Domain domain, String subjectToken, String audience) throws Exception {
        String body = "grant_type=" + enc("urn:ietf:params:oauth:grant-type:token-exchange") + "&subject_token_type="
                + enc("urn:ietf:params:oauth:token-type:jwt") + "&subject_token=" + enc(subjectToken) + "&audience=" + enc(audience);
        KeyStore roots = KeyStore.getInstance("PKCS12");
        roots.load(null, null);
        List<X509Certificate> authorities = domain.server().authority().bundle().x509Authorities();
        for (int i = 0; i < authorities.size(); i++) {
            roots.setCertificateEntry("root" + i, authorities.get(i));
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance("PKIX");
        trust.init(roots);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        var address = domain.server().tokenEndpointAddress().orElseThrow();
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(address.getAddress(), address.getPort())) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /oauth2/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                    + "Content-Length: " + bytes.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream response = new ByteArrayOutputStream();
            in.transferTo(response);
            return response.toString(StandardCharsets.UTF_8);
        }
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /** TLS from an X509Source: its current SVID, and trust in a peer through the bundle of the peer's own trust domain. */
    static final class SpiffeTls {
        static SSLContext context(X509Source source) throws Exception {
            X509Svid svid = source.getX509Svid();
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("svid", svid.getPrivateKey(), new char[0], svid.getChainArray());
            KeyManagerFactory keyManagers = KeyManagerFactory.getInstance("PKIX");
            keyManagers.init(keys, new char[0]);
            SSLContext tls = SSLContext.getInstance("TLSv1.3");
            tls.init(keyManagers.getKeyManagers(), new TrustManager[] {new BundleTrust(source)}, null);
            return tls;
        }
    }

    private static final class BundleTrust extends X509ExtendedTrustManager {
        private final X509Source source;

        BundleTrust(X509Source source) {
            this.source = source;
        }

        /** The peer's chain against the bundle of the peer's own trust domain, with the JDK's PKIX trust manager. */
        private void check(X509Certificate[] chain, String authType, boolean client) throws CertificateException {
            String id;
            try {
                id = SpiffeTlsPeer.spiffeId(chain[0]);
            } catch (Exception e) {
                throw new CertificateException("peer has no spiffe id");
            }
            X509Bundle bundle;
            try {
                bundle = source.getBundleForTrustDomain(io.spiffe.spiffeid.SpiffeId.parse(id).getTrustDomain());
            } catch (BundleNotFoundException e) {
                throw new CertificateException("no bundle for the trust domain of " + id);
            }
            try {
                KeyStore roots = KeyStore.getInstance("PKCS12");
                roots.load(null, null);
                int i = 0;
                for (X509Certificate authority : bundle.getX509Authorities()) {
                    roots.setCertificateEntry("root" + i++, authority);
                }
                TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
                factory.init(roots);
                javax.net.ssl.X509TrustManager pkix = (javax.net.ssl.X509TrustManager) factory.getTrustManagers()[0];
                if (client) {
                    pkix.checkClientTrusted(chain, authType);
                } else {
                    pkix.checkServerTrusted(chain, authType);
                }
            } catch (CertificateException e) {
                throw e;
            } catch (Exception e) {
                throw new CertificateException("cannot check " + id + ": " + e, e);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            check(chain, authType, true);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            check(chain, authType, false);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            check(chain, authType, true);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            check(chain, authType, false);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain, authType, true);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain, authType, false);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    /** A web PKI CA of this test's own, trusted by b.test's server for https_web bundle endpoints. */
    static final class WebCa {
        private final KeyPair keys;
        final X509Certificate certificate;

        private WebCa(KeyPair keys, X509Certificate certificate) {
            this.keys = keys;
            this.certificate = certificate;
        }

        static WebCa create() throws Exception {
            KeyPair keys = ec();
            X500Name name = new X500Name("O=Sigil Test Web CA,CN=web-ca");
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(System.nanoTime()),
                    Date.from(Instant.now().minus(Duration.ofHours(1))), Date.from(Instant.now().plus(Duration.ofDays(2))), name,
                    keys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            return new WebCa(keys, sign(builder, keys));
        }

        /** A server certificate for localhost and 127.0.0.1 and its key, written as PEM files. */
        void issueLocalhost(Path certFile, Path keyFile) throws Exception {
            KeyPair leaf = ec();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                    X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()), BigInteger.valueOf(System.nanoTime()),
                    Date.from(Instant.now().minus(Duration.ofHours(1))), Date.from(Instant.now().plus(Duration.ofDays(1))),
                    new X500Name("CN=localhost"), leaf.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
            X509Certificate issued = sign(builder, keys);
            Files.createDirectories(certFile.getParent());
            Files.writeString(certFile, pem(issued) + pem(certificate));
            Files.writeString(keyFile, pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(leaf.getPrivate(), null).generate()));
        }

        private static String pem(Object object) throws Exception {
            StringWriter text = new StringWriter();
            try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
                writer.writeObject(object);
            }
            return text.toString();
        }

        private static KeyPair ec() throws Exception {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        }

        private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer) throws Exception {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
        }
    }
}
