package dev.sigil.agent.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sigil.agent.workload.FakeWorkloadIdentities.Entry;
import dev.sigil.core.crypto.Pem;
import dev.sigil.testkit.Eventually;
import io.envoyproxy.envoy.config.core.v3.BuildVersion;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc;
import io.envoyproxy.envoy.type.v3.SemanticVersion;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Envoy's Secret Discovery Service on the agent's socket, driven by a protocol client built from Envoy's
 * own API definitions over the real Unix socket, with callers attested from the real /proc. The client
 * sends no {@code workload.spiffe.io} header, as Envoy does not.
 */
@Timeout(30)
class SecretDiscoveryTest {
    private static final String SECRET_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
    private static final Node ENVOY = Node.newBuilder().setId("sidecar~10.0.0.1~billing").setCluster("billing")
            .setUserAgentName("envoy")
            .setUserAgentBuildVersion(BuildVersion.newBuilder().setVersion(SemanticVersion.newBuilder().setMajorNumber(1).setMinorNumber(34)))
            .build();

    @TempDir
    Path dir;

    private WorkloadApiFixture fixture;
    private ManagedChannel channel;
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

    @BeforeEach
    void start() {
        logged.start();
        ((Logger) LoggerFactory.getLogger(SdsStream.class)).addAppender(logged);
        fixture = WorkloadApiFixture.real(dir);
        fixture.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid()), fixture.domain.x509("/billing")));
        channel = fixture.channel();
    }

    @AfterEach
    void stop() throws InterruptedException {
        WorkloadApiFixture.shutdown(channel);
        fixture.close();
        ((Logger) LoggerFactory.getLogger(SdsStream.class)).detachAppender(logged);
    }

    @Test
    void streamServesTheCallersDefaultSvidAndTheBundleWithoutTheSecurityHeader() throws Exception {
        Stream stream = open();
        stream.send(request("", "", "default", "ROOTCA"));

        DiscoveryResponse response = stream.response();
        assertThat(response.getTypeUrl()).isEqualTo(SECRET_TYPE);
        assertThat(response.getVersionInfo()).isNotEmpty();
        assertThat(response.getNonce()).isNotEmpty();
        Map<String, Secret> secrets = secrets(response);
        assertThat(secrets).containsOnlyKeys("default", "ROOTCA");

        List<X509Certificate> chain = chain(secrets.get("default"));
        assertThat(spiffeId(chain.getFirst())).isEqualTo("spiffe://example.org/billing");
        assertKeyMatches(secrets.get("default"), chain.getFirst());

        SPIFFECertValidatorConfig validator = spiffeValidator(secrets.get("ROOTCA"));
        assertThat(validator.getTrustDomainsList()).singleElement().satisfies(domain -> {
            assertThat(domain.getName()).isEqualTo("example.org");
            List<X509Certificate> authorities = Pem.parseCertificates(domain.getTrustBundle().getInlineBytes().toStringUtf8(), "test");
            assertThat(authorities).containsExactly(fixture.domain.ca);
            assertVerifies(chain, authorities);
        });
        stream.cancel();
    }

    @Test
    void ackIsNotAnsweredAndARotationIsPushedWithANewVersion() throws Exception {
        Stream stream = open();
        stream.send(request("", "", "default"));
        DiscoveryResponse first = stream.response();
        X509Certificate before = chain(secrets(first).get("default")).getFirst();
        stream.send(request(first.getVersionInfo(), first.getNonce(), "default")); // ACK
        // Requests are handled in order and sends are ordered: had the ACK been answered, that answer
        // would come before the answer to this change of names.
        stream.send(request(first.getVersionInfo(), first.getNonce(), "default", "ROOTCA"));
        DiscoveryResponse widened = stream.response();
        assertThat(secrets(widened)).containsOnlyKeys("default", "ROOTCA");
        stream.send(request(widened.getVersionInfo(), widened.getNonce(), "default", "ROOTCA")); // ACK

        var rotated = fixture.domain.x509("/billing");
        fixture.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid()), rotated));

        DiscoveryResponse next = stream.response();
        assertThat(next.getVersionInfo()).isNotEqualTo(widened.getVersionInfo());
        assertThat(next.getVersionInfo()).isNotEqualTo(first.getVersionInfo());
        assertThat(next.getNonce()).isNotEqualTo(first.getNonce());
        Secret secret = secrets(next).get("default");
        X509Certificate after = chain(secret).getFirst();
        assertThat(after).isEqualTo(rotated.chain().getFirst()).isNotEqualTo(before);
        assertKeyMatches(secret, after);
        stream.cancel();
    }

    @Test
    void nackIsLoggedClippedOnceAndNotAnsweredUntilTheStateChanges() throws Exception {
        Stream stream = open();
        stream.send(request("", "", "default"));
        DiscoveryResponse first = stream.response();
        String evil = "cannot load certificate\n2026-01-01 INFO forged line \u001b[31m" + "x".repeat(5000);
        DiscoveryRequest nack = request("", first.getNonce(), "default").toBuilder()
                .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3).setMessage(evil)).build();
        stream.send(nack);
        stream.send(nack); // the same NACK again: logged once
        // handled in order: had a NACK been answered, that answer would come before this one's
        stream.send(request("", first.getNonce(), "default", "ROOTCA"));
        DiscoveryResponse widened = stream.response();
        assertThat(secrets(widened)).containsOnlyKeys("default", "ROOTCA");
        stream.send(request("", widened.getNonce(), "default", "ROOTCA").toBuilder()
                .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3).setMessage("still rejected")).build());
        // a change made before the server read this NACK would make it stale: wait until it was read
        Eventually.within(Duration.ofSeconds(5), () -> assertThat(logged.list)
                .anyMatch(event -> event.getFormattedMessage().contains("still rejected")));

        var marker = fixture.domain.x509("/billing");
        fixture.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid()), marker));
        DiscoveryResponse next = stream.response();
        assertThat(chain(secrets(next).get("default")).getFirst()).as("the first message after the NACK is the new state")
                .isEqualTo(marker.chain().getFirst());
        assertThat(logged.list).filteredOn(event -> event.getFormattedMessage().contains("still rejected")).hasSize(1);

        assertThat(logged.list).filteredOn(event -> event.getFormattedMessage().contains("cannot load certificate")).singleElement()
                .satisfies(event -> assertThat(event.getFormattedMessage())
                        .contains("cannot load certificate").doesNotContain("\n").doesNotContain("\u001b").hasSizeLessThan(600));
        stream.cancel();
    }

    @Test
    void staleNonceIsIgnored() throws Exception {
        Stream stream = open();
        stream.send(request("", "", "default"));
        DiscoveryResponse first = stream.response();
        stream.send(request(first.getVersionInfo(), "not-the-nonce", "ROOTCA")); // names changed, but stale
        stream.send(request(first.getVersionInfo(), first.getNonce(), "ROOTCA"));
        assertThat(secrets(stream.response())).containsOnlyKeys("ROOTCA");
        stream.cancel();
    }

    @Test
    void askingForAnotherWorkloadsSpiffeIdGetsNothing() throws Exception {
        fixture.identities.setEntries(
                new Entry(Set.of(WorkloadApiFixture.ownUid()), fixture.domain.x509("/billing")),
                new Entry(Set.of(dev.sigil.core.selector.Selector.of("unix", "uid:999999")),
                        fixture.domain.x509("/payments")));
        Stream stream = open();
        stream.send(request("", "", "default", "spiffe://example.org/payments"));
        assertThat(stream.next()).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains("not authorized").contains("'spiffe://example.org/payments'");
        });
        assertThat(stream.events).isEmpty();

        var fetch = SecretDiscoveryServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        assertThatThrownBy(() -> fetch.fetchSecrets(request("", "", "spiffe://example.org/payments")))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }

    @Test
    void unregisteredCallerIsPermissionDeniedAnSvidButGetsThePublicBundle() throws Exception {
        fixture.identities.setEntries();
        Stream stream = open();
        stream.send(request("", "", "default", "ROOTCA"));
        assertThat(stream.next()).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(e.getStatus().getDescription()).contains("no identity issued");
        });
        assertThat(stream.events).isEmpty();

        var fetch = SecretDiscoveryServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        for (String everything : List.of("default", "")) {
            assertThatThrownBy(() -> fetch.fetchSecrets(request("", "", everything)))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        }
        // bundles are public trust anchors, as FetchX509Bundles serves them to any attested caller
        assertThat(secrets(fetch.fetchSecrets(request("", "", "ROOTCA", "spiffe://example.org"))))
                .containsOnlyKeys("ROOTCA", "spiffe://example.org");
    }

    @Test
    void streamOpenedBeforeTheFirstSyncIsAnsweredOnceSynced() throws Exception {
        fixture.identities.setSynced(false);
        fixture.identities.setEntries();
        Stream stream = open();
        stream.send(request("", "", "default"));
        fixture.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid()), fixture.domain.x509("/billing")));
        fixture.identities.setSynced(true);
        assertThat(secrets(stream.response())).containsOnlyKeys("default");
        stream.cancel();
    }

    @Test
    void fetchSecretsServesByNameAndEverythingForNoName() throws Exception {
        var fetch = SecretDiscoveryServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        DiscoveryResponse byName = fetch.fetchSecrets(request("", "", "spiffe://example.org/billing", "spiffe://example.org"));
        Map<String, Secret> secrets = secrets(byName);
        assertThat(secrets).containsOnlyKeys("spiffe://example.org/billing", "spiffe://example.org");
        X509Certificate leaf = chain(secrets.get("spiffe://example.org/billing")).getFirst();
        assertKeyMatches(secrets.get("spiffe://example.org/billing"), leaf);
        assertThat(spiffeValidator(secrets.get("spiffe://example.org")).getTrustDomains(0).getName()).isEqualTo("example.org");

        // as SPIRE: no name is every bundle under its trust domain and every SVID under its SPIFFE ID
        assertThat(secrets(fetch.fetchSecrets(request("", ""))).keySet())
                .containsExactlyInAnyOrder("spiffe://example.org", "spiffe://example.org/billing");

        DiscoveryResponse all = fetch.fetchSecrets(request("", "", "ALL"));
        assertThat(spiffeValidator(secrets(all).get("ALL")).getTrustDomainsList()).extracting(SPIFFECertValidatorConfig.TrustDomain::getName)
                .containsExactly("example.org");
    }

    @Test
    void plainTrustedCaWhenTheNodeDisablesTheSpiffeValidatorOrIsAnOldEnvoy() throws Exception {
        var fetch = SecretDiscoveryServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        Node disabled = ENVOY.toBuilder().setMetadata(Struct.newBuilder()
                .putFields("disable_spiffe_cert_validation", Value.newBuilder().setBoolValue(true).build())).build();
        Node old = ENVOY.toBuilder().setUserAgentBuildVersion(BuildVersion.newBuilder()
                .setVersion(SemanticVersion.newBuilder().setMajorNumber(1).setMinorNumber(17))).build();
        for (Node node : List.of(disabled, old)) {
            Secret rootCa = secrets(fetch.fetchSecrets(request("", "", "ROOTCA").toBuilder().setNode(node).build())).get("ROOTCA");
            CertificateValidationContext context = rootCa.getValidationContext();
            assertThat(context.hasCustomValidatorConfig()).isFalse();
            assertThat(Pem.parseCertificates(context.getTrustedCa().getInlineBytes().toStringUtf8(), "test")).containsExactly(fixture.domain.ca);
            assertThatThrownBy(() -> fetch.fetchSecrets(request("", "", "ALL").toBuilder().setNode(node).build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        }
    }

    @Test
    void deltaSecretsIsUnimplemented() throws Exception {
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        StreamObserver<DeltaDiscoveryRequest> requests = SecretDiscoveryServiceGrpc.newStub(channel)
                .deltaSecrets(WorkloadApiSemanticsTest.collect(events));
        requests.onNext(DeltaDiscoveryRequest.newBuilder().setTypeUrl(SECRET_TYPE).addResourceNamesSubscribe("default").build());
        assertThat(events.poll(10, TimeUnit.SECONDS)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
                    assertThat(e.getStatus().getDescription()).contains("delta").contains("StreamSecrets");
                });
    }

    @Test
    void endedStreamsLeaveNoListeners() throws Exception {
        for (int i = 0; i < 20; i++) {
            Stream stream = open();
            stream.send(request("", "", "default"));
            stream.response();
            if (i % 2 == 0) {
                stream.cancel();
            } else {
                stream.requests.onCompleted();
                assertThat(stream.next()).isEqualTo("completed");
            }
        }
        Eventually.within(Duration.ofSeconds(10), () -> assertThat(fixture.identities.listenerCount()).isZero());
    }

    @Test
    void closingTheServerEndsOpenSecretStreams() throws Exception {
        Stream stream = open();
        stream.send(request("", "", "default"));
        stream.response();

        fixture.server.close();

        assertThat(stream.next()).isInstanceOf(Throwable.class);
        Eventually.within(Duration.ofSeconds(5), () -> assertThat(fixture.identities.listenerCount()).isZero());
    }

    @Test
    void malformedRequestIsInvalidArgumentAndTheHealthServiceNamesSds() {
        MethodDescriptor.Marshaller<byte[]> bytes = new MethodDescriptor.Marshaller<>() {
            @Override
            public java.io.InputStream stream(byte[] value) {
                return new java.io.ByteArrayInputStream(value);
            }

            @Override
            public byte[] parse(java.io.InputStream stream) {
                try {
                    return stream.readAllBytes();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        };
        MethodDescriptor<byte[], byte[]> raw = SecretDiscoveryServiceGrpc.getFetchSecretsMethod().toBuilder(bytes, bytes).build();
        byte[] truncated = {0x0a, 0x7f, 'x'}; // field 1 announcing 127 bytes, then one
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel, raw, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), truncated))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("DiscoveryRequest");
                });

        assertThat(HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService("envoy.service.secret.v3.SecretDiscoveryService").build())
                .getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }

    // --- a minimal SDS client, as Envoy drives the protocol ---

    private Stream open() {
        io.grpc.Context.CancellableContext context = io.grpc.Context.current().withCancellation();
        Stream stream = new Stream(context);
        context.run(() -> stream.requests = SecretDiscoveryServiceGrpc.newStub(channel)
                .streamSecrets(WorkloadApiSemanticsTest.collect(stream.events)));
        return stream;
    }

    private static final class Stream {
        final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        final io.grpc.Context.CancellableContext context;
        StreamObserver<DiscoveryRequest> requests;

        Stream(io.grpc.Context.CancellableContext context) {
            this.context = context;
        }

        void send(DiscoveryRequest request) {
            requests.onNext(request);
        }

        Object next() throws InterruptedException {
            Object event = events.poll(10, TimeUnit.SECONDS);
            assertThat(event).as("a message or the end of the stream within 10 s").isNotNull();
            return event;
        }

        DiscoveryResponse response() throws InterruptedException {
            Object event = next();
            assertThat(event).isInstanceOf(DiscoveryResponse.class);
            return (DiscoveryResponse) event;
        }

        void cancel() {
            context.cancel(null);
        }
    }

    private static DiscoveryRequest request(String version, String nonce, String... names) {
        return DiscoveryRequest.newBuilder().setTypeUrl(SECRET_TYPE).setNode(ENVOY).setVersionInfo(version).setResponseNonce(nonce)
                .addAllResourceNames(List.of(names)).build();
    }

    private static Map<String, Secret> secrets(DiscoveryResponse response) throws InvalidProtocolBufferException {
        Map<String, Secret> secrets = new java.util.LinkedHashMap<>();
        for (Any resource : response.getResourcesList()) {
            assertThat(resource.getTypeUrl()).isEqualTo(SECRET_TYPE);
            Secret secret = resource.unpack(Secret.class);
            assertThat(secrets.put(secret.getName(), secret)).as("secret %s served once", secret.getName()).isNull();
        }
        return secrets;
    }

    private static List<X509Certificate> chain(Secret secret) {
        assertThat(secret.hasTlsCertificate()).as("%s is a tls certificate", secret.getName()).isTrue();
        return Pem.parseCertificates(secret.getTlsCertificate().getCertificateChain().getInlineBytes().toStringUtf8(), "test");
    }

    private static SPIFFECertValidatorConfig spiffeValidator(Secret secret) throws InvalidProtocolBufferException {
        CertificateValidationContext context = secret.getValidationContext();
        assertThat(context.getCustomValidatorConfig().getName()).isEqualTo("envoy.tls.cert_validator.spiffe");
        return context.getCustomValidatorConfig().getTypedConfig().unpack(SPIFFECertValidatorConfig.class);
    }

    private static String spiffeId(X509Certificate certificate) throws Exception {
        return certificate.getSubjectAlternativeNames().stream().filter(name -> (Integer) name.get(0) == 6)
                .map(name -> (String) name.get(1)).findFirst().orElseThrow();
    }

    /** The secret's private key signs what the leaf certificate's public key verifies: they are one key pair. */
    private static void assertKeyMatches(Secret secret, X509Certificate leaf) throws Exception {
        String pem = secret.getTlsCertificate().getPrivateKey().getInlineBytes().toString(StandardCharsets.US_ASCII);
        assertThat(pem).startsWith("-----BEGIN PRIVATE KEY-----\n").endsWith("-----END PRIVATE KEY-----\n");
        byte[] der = Base64.getMimeDecoder().decode(pem.replace("-----BEGIN PRIVATE KEY-----", "").replace("-----END PRIVATE KEY-----", ""));
        PrivateKey key = KeyFactory.getInstance(leaf.getPublicKey().getAlgorithm()).generatePrivate(new PKCS8EncodedKeySpec(der));
        byte[] data = new byte[32];
        new SecureRandom().nextBytes(data);
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(key);
        signer.update(data);
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(leaf.getPublicKey());
        verifier.update(data);
        assertThat(verifier.verify(signature)).as("the private key belongs to the certificate").isTrue();
    }

    /** The chain validates (PKIX) against the bundle's authorities. */
    private static void assertVerifies(List<X509Certificate> chain, List<X509Certificate> authorities) throws Exception {
        PKIXParameters parameters = new PKIXParameters(authorities.stream().map(ca -> new TrustAnchor(ca, null))
                .collect(java.util.stream.Collectors.toSet()));
        parameters.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(chain), parameters);
    }
}
