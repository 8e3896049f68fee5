package dev.sigil.bench;

import dev.sigil.core.crypto.CryptoProviders;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.authority.Audience;
import dev.sigil.server.authority.Authority;
import dev.sigil.server.authority.AuthorityConfig;
import dev.sigil.server.authority.JwtSvid;
import dev.sigil.server.authority.RotationListener;
import dev.sigil.server.authority.X509Svid;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreConfig;
import dev.sigil.server.keys.KeyManagers;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * Single-thread minting throughput next to the raw signatures it cannot avoid, so one run prints both
 * sides of each ratio. Targets: {@link #x509SvidMintFromCsr} at least 0.6x of
 * {@link #rawVerifyPlusSign} (a mint verifies the CSR's proof of possession and signs one leaf);
 * {@link #jwtSvidMint} at least 0.7x of {@link #rawEs256Sign}.
 *
 * <p>The authority runs exactly as in the server: in-memory key manager, SQLite journal in a
 * temporary directory, the provider chosen by {@link CryptoProviders}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
public class MintBenchmark {
    private static final SpiffeId WORKLOAD = SpiffeId.parse("spiffe://example.org/bench/workload");
    private static final Audience AUDIENCE = Audience.of("https://api.example.org");
    private static final Duration X509_TTL = Duration.ofHours(1);
    private static final Duration JWT_TTL = Duration.ofMinutes(5);

    private Primitives primitives;
    private TempDirectory directory;
    private Datastore datastore;
    private Authority authority;
    private byte[] csr;

    @Setup(Level.Trial)
    public void setUp() throws IOException, GeneralSecurityException, OperatorCreationException {
        System.out.println("signing provider: " + CryptoProviders.describe());
        primitives = new Primitives();
        directory = TempDirectory.create("sigil-mint-bench");
        datastore = Datastore.open(DatastoreConfig.sqlite(directory.resolve("sigil.db")));
        authority = Authority.start(AuthorityConfig.defaults(TrustDomain.parse("example.org")), datastore,
                KeyManagers.memory(), Clock.systemUTC(), RotationListener.none());
        csr = workloadCsr();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        datastore.close();
        directory.close();
    }

    /** What a workload sends: a P-256 key and its CSR, made once with the JDK provider. */
    private static byte[] workloadCsr() throws GeneralSecurityException, OperatorCreationException, IOException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = generator.generateKeyPair();
        return new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=workload"), pair.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()))
                .getEncoded();
    }

    @Benchmark
    public byte[] rawEcdsaP256Sign() throws GeneralSecurityException {
        return primitives.sign();
    }

    @Benchmark
    public boolean rawEcdsaP256Verify() throws GeneralSecurityException {
        return primitives.verify();
    }

    /** The raw primitive cost of minting from a CSR: one verify and one sign. */
    @Benchmark
    public byte[] rawVerifyPlusSign() throws GeneralSecurityException {
        if (!primitives.verify()) {
            throw new IllegalStateException("the reference signature did not verify");
        }
        return primitives.sign();
    }

    @Benchmark
    public X509Svid x509SvidMintFromCsr() {
        return authority.mintX509Svid(WORKLOAD, csr, X509_TTL, List.of());
    }

    /** The same operation as {@link #rawEcdsaP256Sign}, named for the JWT comparison. */
    @Benchmark
    public byte[] rawEs256Sign() throws GeneralSecurityException {
        return primitives.sign();
    }

    @Benchmark
    public JwtSvid jwtSvidMint() {
        return authority.mintJwtSvid(WORKLOAD, AUDIENCE, JWT_TTL);
    }
}
