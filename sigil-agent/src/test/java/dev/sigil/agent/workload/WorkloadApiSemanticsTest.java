package dev.sigil.agent.workload;

import dev.sigil.testkit.Eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.sigil.agent.workload.FakeWorkloadIdentities.Entry;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.proto.workload.JWTSVIDRequest;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import dev.sigil.proto.workload.ValidateJWTSVIDRequest;
import dev.sigil.proto.workload.ValidateJWTSVIDResponse;
import dev.sigil.proto.workload.X509SVIDRequest;
import dev.sigil.proto.workload.X509SVIDResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Workload API semantics and status codes, over the real socket with raw gRPC calls. */
class WorkloadApiSemanticsTest {
    @TempDir
    Path dir;

    private WorkloadApiFixture fixture;
    private ManagedChannel channel;
    private SpiffeWorkloadAPIGrpc.SpiffeWorkloadAPIBlockingStub stub;
    private final SpiffeId billing = SpiffeId.parse("spiffe://example.org/billing");

    @BeforeEach
    void start() {
        fixture = WorkloadApiFixture.real(dir);
        fixture.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid()), fixture.domain.x509("/billing")));
        channel = fixture.channel();
        stub = fixture.stub(channel);
    }

    @AfterEach
    void stop() throws InterruptedException {
        WorkloadApiFixture.shutdown(channel);
        fixture.close();
    }

    private static ValidateJWTSVIDRequest validate(String token, String audience) {
        return ValidateJWTSVIDRequest.newBuilder().setSvid(token).setAudience(audience).build();
    }

    private static JWTSVIDRequest jwtFor(String... audience) {
        return JWTSVIDRequest.newBuilder().addAllAudience(List.of(audience)).build();
    }

    private static void assertStatus(Runnable call, Status.Code code, String messagePart) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(messagePart);
        });
    }

    @Test
    void callWithoutSecurityHeaderIsInvalidArgument() {
        var bare = SpiffeWorkloadAPIGrpc.newBlockingStub(channel);
        assertStatus(() -> bare.fetchJWTSVID(jwtFor("payments")), Status.Code.INVALID_ARGUMENT, "workload.spiffe.io");
        assertStatus(() -> bare.fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next(), Status.Code.INVALID_ARGUMENT, "is missing");
    }

    @Test
    void securityHeaderOtherThanTrueIsInvalidArgument() {
        Metadata headers = new Metadata();
        headers.put(SecurityHeaderInterceptor.HEADER, "false");
        var wrong = SpiffeWorkloadAPIGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        assertStatus(() -> wrong.fetchJWTSVID(jwtFor("payments")), Status.Code.INVALID_ARGUMENT, "'false'");
    }

    @Test
    void healthServiceAnswersWithoutTheHeader() {
        HealthCheckResponse response = HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.newBuilder().setService("SpiffeWorkloadAPI").build());
        assertThat(response.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }

    @Test
    void socketIsWorldConnectableInACreatedDirectory() throws Exception {
        assertThat(Files.getPosixFilePermissions(fixture.server.socketPath())).isEqualTo(PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThat(Files.isDirectory(dir.resolve("agent"))).isTrue();
    }

    @Test
    void x509SvidResponseCarriesChainKeyAndBundle() throws Exception {
        X509SVIDResponse response = stub.fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next();
        assertThat(response.getSvidsList()).singleElement().satisfies(svid -> {
            assertThat(svid.getSpiffeId()).isEqualTo("spiffe://example.org/billing");
            assertThat(svid.getBundle().toByteArray()).isEqualTo(fixture.domain.ca.getEncoded());
            assertThat(svid.getX509SvidKey().isEmpty()).isFalse();
        });
    }

    @Test
    void jwtSvidWithoutAudienceIsInvalidArgument() {
        assertStatus(() -> stub.fetchJWTSVID(JWTSVIDRequest.getDefaultInstance()), Status.Code.INVALID_ARGUMENT, "audience");
    }

    @Test
    void oversizedOrUnprintableAudienceIsInvalidArgument() {
        assertStatus(() -> stub.fetchJWTSVID(jwtFor("a".repeat(2048))), Status.Code.INVALID_ARGUMENT, "512");
        assertStatus(() -> stub.fetchJWTSVID(jwtFor("db\nforged")), Status.Code.INVALID_ARGUMENT, "control character");
    }

    @Test
    void jwtSvidWithAStatusClaimIsValidOnlyWhileTheServerSaysSo() {
        String uri = "https://sigil.example.org/statuslists/0";
        String token = fixture.domain.sign(new com.nimbusds.jose.JWSHeader.Builder(com.nimbusds.jose.JWSAlgorithm.ES256)
                        .keyID(fixture.domain.jwtKeyId).type(com.nimbusds.jose.JOSEObjectType.JWT).build(),
                new com.nimbusds.jwt.JWTClaimsSet.Builder().subject(billing.toString()).audience("payments")
                        .expirationTime(java.util.Date.from(Instant.now().plusSeconds(300)))
                        .claim("status", Map.of("status_list", Map.of("uri", uri, "idx", 7))).build());

        fixture.identities.setTokenState(uri, 7, WorkloadIdentities.TokenState.VALID);
        assertThat(stub.validateJWTSVID(validate(token, "payments")).getSpiffeId()).isEqualTo(billing.toString());

        fixture.identities.setTokenState(uri, 7, WorkloadIdentities.TokenState.REVOKED);
        assertStatus(() -> stub.validateJWTSVID(validate(token, "payments")), Status.Code.INVALID_ARGUMENT, "revoked");

        fixture.identities.setTokenState(uri, 7, WorkloadIdentities.TokenState.UNKNOWN); // server unreachable: fail closed
        assertStatus(() -> stub.validateJWTSVID(validate(token, "payments")), Status.Code.INVALID_ARGUMENT, "cannot be confirmed");
    }

    @Test
    void validJwtSvidValidatesWithClaims() {
        String token = fixture.domain.jwt(billing, List.of("payments"), Instant.now().plusSeconds(300));
        ValidateJWTSVIDResponse response = stub.validateJWTSVID(validate(token, "payments"));
        assertThat(response.getSpiffeId()).isEqualTo(billing.toString());
        assertThat(response.getClaims().getFieldsMap().get("sub").getStringValue()).isEqualTo(billing.toString());
    }

    @Test
    void validateWithoutAudienceOrTokenIsInvalidArgument() {
        assertStatus(() -> stub.validateJWTSVID(validate("x", "")), Status.Code.INVALID_ARGUMENT, "audience is empty");
        assertStatus(() -> stub.validateJWTSVID(validate("", "payments")), Status.Code.INVALID_ARGUMENT, "svid is empty");
    }

    @Test
    void malformedTokenIsInvalidArgument() {
        assertStatus(() -> stub.validateJWTSVID(validate("not.a.jwt", "payments")), Status.Code.INVALID_ARGUMENT, "not a signed jwt");
    }

    @Test
    void unsignedTokenIsInvalidArgument() {
        String none = new PlainJWT(new JWTClaimsSet.Builder().subject(billing.toString()).audience("payments")
                .expirationTime(Date.from(Instant.now().plusSeconds(300))).build()).serialize();
        assertStatus(() -> stub.validateJWTSVID(validate(none, "payments")), Status.Code.INVALID_ARGUMENT, "not a signed jwt");
    }

    @Test
    void hmacSignedTokenIsInvalidArgument() throws Exception {
        SignedJWT hmac = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(fixture.domain.jwtKeyId).type(JOSEObjectType.JWT).build(),
                new JWTClaimsSet.Builder().subject(billing.toString()).audience("payments")
                        .expirationTime(Date.from(Instant.now().plusSeconds(300))).build());
        hmac.sign(new MACSigner(new byte[32]));
        assertStatus(() -> stub.validateJWTSVID(validate(hmac.serialize(), "payments")), Status.Code.INVALID_ARGUMENT, "alg 'HS256' is not allowed");
    }

    @Test
    void unknownKeyIdIsInvalidArgument() {
        String token = fixture.domain.sign(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("unknown-kid").build(),
                new JWTClaimsSet.Builder().subject(billing.toString()).audience("payments")
                        .expirationTime(Date.from(Instant.now().plusSeconds(300))).build());
        assertStatus(() -> stub.validateJWTSVID(validate(token, "payments")), Status.Code.INVALID_ARGUMENT, "'unknown-kid'");
    }

    @Test
    void tokenSignedByAnotherKeyUnderAKnownKidIsInvalidArgument() {
        TestTrustDomain impostor = new TestTrustDomain("example.org");
        String token = impostor.sign(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(fixture.domain.jwtKeyId).build(),
                new JWTClaimsSet.Builder().subject(billing.toString()).audience("payments")
                        .expirationTime(Date.from(Instant.now().plusSeconds(300))).build());
        assertStatus(() -> stub.validateJWTSVID(validate(token, "payments")), Status.Code.INVALID_ARGUMENT, "signature does not verify");
    }

    @Test
    void expiredTokenIsInvalidArgument() {
        String token = fixture.domain.jwt(billing, List.of("payments"), Instant.now().minusSeconds(5));
        assertStatus(() -> stub.validateJWTSVID(validate(token, "payments")), Status.Code.INVALID_ARGUMENT, "expired");
    }

    @Test
    void tokenWithoutExpiryIsInvalidArgument() {
        String token = fixture.domain.sign(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(fixture.domain.jwtKeyId).build(),
                new JWTClaimsSet.Builder().subject(billing.toString()).audience("payments").build());
        assertStatus(() -> stub.validateJWTSVID(validate(token, "payments")), Status.Code.INVALID_ARGUMENT, "no 'exp'");
    }

    @Test
    void tokenForAnotherAudienceIsInvalidArgument() {
        String token = fixture.domain.jwt(billing, List.of("payments"), Instant.now().plusSeconds(300));
        assertStatus(() -> stub.validateJWTSVID(validate(token, "ledger")), Status.Code.INVALID_ARGUMENT, "does not contain 'ledger'");
    }

    @Test
    void tokenOfAnUnknownTrustDomainIsInvalidArgument() {
        TestTrustDomain stranger = new TestTrustDomain("stranger.test");
        String token = stranger.jwt(stranger.id("/x"), List.of("payments"), Instant.now().plusSeconds(300));
        assertStatus(() -> stub.validateJWTSVID(validate(token, "payments")), Status.Code.INVALID_ARGUMENT, "no bundle for trust domain");
    }

    @Test
    void unregisteredCallerIsPermissionDeniedOnceSynced() {
        fixture.identities.setEntries();
        assertStatus(() -> stub.fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next(), Status.Code.PERMISSION_DENIED, "no identity issued");
        assertStatus(() -> stub.fetchJWTSVID(jwtFor("payments")), Status.Code.PERMISSION_DENIED, "no identity issued");
    }

    @Test
    void jwtSvidBeforeFirstSyncIsUnavailable() {
        fixture.identities.setEntries();
        fixture.identities.setSynced(false);
        assertStatus(() -> stub.fetchJWTSVID(jwtFor("payments")), Status.Code.UNAVAILABLE, "not synced");
    }

    @Test
    void x509StreamOpenedBeforeFirstSyncWaitsAndThenDelivers() throws Exception {
        fixture.identities.setEntries();
        fixture.identities.setSynced(false);
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        SpiffeWorkloadAPIGrpc.newStub(channel).withInterceptors(WorkloadApiFixture.securityHeader())
                .fetchX509SVID(X509SVIDRequest.getDefaultInstance(), collect(events));

        Eventually.within(Duration.ofSeconds(5), () -> assertThat(fixture.identities.listenerCount()).isPositive());

        fixture.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid()), fixture.domain.x509("/billing")));
        fixture.identities.setSynced(true);
        // sends are ordered: anything the stream sent before the sync (an empty answer, an error) would come first
        assertThat(events.poll(5, TimeUnit.SECONDS)).as("the stream's first message").isInstanceOfSatisfying(X509SVIDResponse.class,
                response -> assertThat(response.getSvids(0).getSpiffeId()).isEqualTo("spiffe://example.org/billing"));
    }

    @Test
    void streamEndsWithPermissionDeniedWhenTheIdentityIsWithdrawn() throws Exception {
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        SpiffeWorkloadAPIGrpc.newStub(channel).withInterceptors(WorkloadApiFixture.securityHeader())
                .fetchX509SVID(X509SVIDRequest.getDefaultInstance(), collect(events));
        assertThat(events.poll(5, TimeUnit.SECONDS)).isInstanceOf(X509SVIDResponse.class);

        fixture.identities.setEntries();

        assertThat(events.poll(5, TimeUnit.SECONDS)).isInstanceOfSatisfying(Throwable.class,
                e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        Eventually.within(Duration.ofSeconds(5), () -> assertThat(fixture.identities.listenerCount()).isZero());
    }

    @Test
    void bundleStreamsCarryOnlyTheFederatedBundlesTheCallersIdentitiesFederateWith() throws Exception {
        TestTrustDomain partner = new TestTrustDomain("partner.example");
        TestTrustDomain stranger = new TestTrustDomain("stranger.example");
        fixture.identities.setFederated(java.util.Map.of(partner.domain, partner.bundle(), stranger.domain, stranger.bundle()));
        fixture.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid()),
                fixture.domain.x509("/billing", Set.of(partner.domain))));

        assertThat(stub.fetchX509Bundles(dev.sigil.proto.workload.X509BundlesRequest.getDefaultInstance()).next().getBundlesMap())
                .containsOnlyKeys("spiffe://example.org", "spiffe://partner.example");
        assertThat(stub.fetchJWTBundles(dev.sigil.proto.workload.JWTBundlesRequest.getDefaultInstance()).next().getBundlesMap())
                .containsOnlyKeys("spiffe://example.org", "spiffe://partner.example");
    }

    @Test
    void staleSocketIsReplacedAndAnotherFileIsRefused() throws Exception {
        Path socket = fixture.server.socketPath();
        fixture.close();
        try (var stale = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            stale.bind(java.net.UnixDomainSocketAddress.of(socket));
        }
        assertThat(socket).exists();
        fixture = WorkloadApiFixture.real(dir);
        WorkloadApiFixture.shutdown(channel);
        channel = fixture.channel();
        assertThat(fixture.stub(channel).fetchX509Bundles(dev.sigil.proto.workload.X509BundlesRequest.getDefaultInstance()).next()
                .getBundlesMap()).containsKey("spiffe://example.org");

        Path regular = dir.resolve("file.sock");
        Files.writeString(regular, "not a socket");
        var config = WorkloadApiConfig.defaults().withSocketPath(regular);
        try (WorkloadApiServer refused = WorkloadApiServer.create(config, fixture.identities,
                List.of(WorkloadAttestor.unix(Path.of("/proc"), Path.of("/etc"))), java.time.Clock.systemUTC())) {
            assertThatThrownBy(refused::start).hasMessageContaining("is not a socket");
        }
        assertThat(Files.readString(regular)).isEqualTo("not a socket");
    }

    static <T> StreamObserver<T> collect(LinkedBlockingQueue<Object> events) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                events.add(value);
            }

            @Override
            public void onError(Throwable t) {
                events.add(t);
            }

            @Override
            public void onCompleted() {
                events.add("completed");
            }
        };
    }
}
