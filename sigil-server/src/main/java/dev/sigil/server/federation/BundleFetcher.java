package dev.sigil.server.federation;

import static dev.sigil.core.Printable.clip;

import dev.sigil.core.bundle.BundleFormatException;
import dev.sigil.core.bundle.SpiffeBundle;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.tls.ServerTls;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * Fetches a foreign trust domain's bundle from its bundle endpoint. Guarantees on success: the endpoint
 * was authenticated as its profile requires ({@link BundleEndpointProfile}; an https_spiffe endpoint
 * against the relationship's current bundle and expected SPIFFE ID, failing closed when there is no
 * bundle); the answer was a 200 of at most {@link #MAX_DOCUMENT_BYTES} bytes of UTF-8, received within
 * {@link #REQUEST_TIMEOUT} (no redirect is followed); it parsed strictly as a SPIFFE bundle; and every
 * X.509 authority that names a trust domain (a SPIFFE ID URI SAN) names this one. Every failure is a
 * {@link FetchFailure} whose message names the endpoint and the reason, quoting what the remote sent only
 * clipped and stripped of control characters.
 */
final class BundleFetcher {
    static final int MAX_DOCUMENT_BYTES = 256 * 1024;
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    /** Why a fetch failed, for the operator (`sigil federation show`) and the audit record. */
    static final class FetchFailure extends Exception {
        FetchFailure(String message) {
            super(message, null, false, false);
        }
    }

    private final Optional<List<X509Certificate>> webRoots;
    private final Clock clock;
    private final Duration requestTimeout;

    /** @param webRoots the roots https_web endpoints must chain to; empty: the JDK's trusted roots */
    BundleFetcher(Optional<List<X509Certificate>> webRoots, Clock clock) {
        this(webRoots, clock, REQUEST_TIMEOUT);
    }

    /** @param requestTimeout how long the whole answer, body included, may take */
    BundleFetcher(Optional<List<X509Certificate>> webRoots, Clock clock, Duration requestTimeout) {
        this.webRoots = webRoots.map(List::copyOf);
        this.clock = clock;
        this.requestTimeout = requestTimeout;
    }

    SpiffeBundle fetch(FederationRelationship relationship) throws FetchFailure {
        TrustDomain trustDomain = relationship.trustDomain();
        String where = relationship.bundleEndpointUrl().toString();
        SSLContext tls = tls(relationship);
        try (HttpClient client = HttpClient.newBuilder().sslContext(tls).connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER).build()) {
            long deadline = System.nanoTime() + requestTimeout.toNanos();
            HttpRequest request = HttpRequest.newBuilder(relationship.bundleEndpointUrl()).timeout(requestTimeout)
                    .header("Accept", "application/json").GET().build();
            HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            byte[] body = readWithin(response.body(), deadline, where);
            if (response.statusCode() != 200) {
                throw new FetchFailure("bundle endpoint " + where + " answered http " + response.statusCode() + "; expected 200");
            }
            if (body.length > MAX_DOCUMENT_BYTES) {
                throw new FetchFailure("bundle endpoint " + where + " sent more than " + MAX_DOCUMENT_BYTES
                        + " bytes; a spiffe bundle is at most that large");
            }
            String json;
            try {
                json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(body)).toString();
            } catch (CharacterCodingException e) {
                throw new FetchFailure("bundle endpoint " + where + " sent a document that is not utf-8");
            }
            SpiffeBundle bundle;
            try {
                bundle = SpiffeBundle.parse(trustDomain, json);
            } catch (BundleFormatException e) {
                throw new FetchFailure("bundle endpoint " + where + " sent an invalid spiffe bundle: " + clip(e.getMessage(), 400));
            }
            for (X509Certificate authority : bundle.x509Authorities()) {
                Optional<SpiffeId> named = ServerTls.spiffeIdOf(authority);
                if (named.isPresent() && !named.get().trustDomain().equals(trustDomain)) {
                    throw new FetchFailure("bundle endpoint " + where + " sent a bundle of trust domain '" + named.get().trustDomain()
                            + "' (its x509 authority names it); expected '" + trustDomain + "'");
                }
            }
            return bundle;
        } catch (HttpTimeoutException e) {
            throw new FetchFailure("bundle endpoint " + where + " did not answer within " + requestTimeout.toMillis() + " ms");
        } catch (SSLHandshakeException e) {
            throw new FetchFailure("bundle endpoint " + where + " failed tls authentication (" + relationship.profile().name() + "): "
                    + clip(rootMessage(e), 400));
        } catch (IOException e) {
            throw new FetchFailure("bundle endpoint " + where + " cannot be reached: " + clip(rootMessage(e), 400));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FetchFailure("bundle fetch from " + where + " was interrupted");
        }
    }

    /**
     * At most {@link #MAX_DOCUMENT_BYTES} + 1 bytes of the body, read before {@code deadline}: the request
     * timeout covers only the headers, so an endpoint sending its body slowly is cut off here.
     */
    private byte[] readWithin(InputStream in, long deadline, String where) throws IOException, FetchFailure, InterruptedException {
        java.util.concurrent.CompletableFuture<byte[]> read = new java.util.concurrent.CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                read.complete(in.readNBytes(MAX_DOCUMENT_BYTES + 1));
            } catch (IOException | RuntimeException e) {
                read.completeExceptionally(e);
            }
        });
        try {
            return read.get(Math.max(0, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new FetchFailure("bundle endpoint " + where + " did not send its bundle within " + requestTimeout.toMillis() + " ms");
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        } finally {
            in.close();
        }
    }

    private SSLContext tls(FederationRelationship relationship) throws FetchFailure {
        try {
            TrustManager trust = switch (relationship.profile()) {
                case BundleEndpointProfile.HttpsSpiffe spiffe -> {
                    SpiffeBundle current = relationship.bundle().orElseThrow(() -> new FetchFailure("no bundle of "
                            + relationship.trustDomain() + " is known to authenticate its https_spiffe endpoint; "
                            + "update the relationship with trust_domain_bundle"));
                    yield new EndpointSvidTrust(current.x509Authorities(), spiffe.endpointSpiffeId(), clock);
                }
                case BundleEndpointProfile.HttpsWeb web -> webTrust();
            };
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {trust}, null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new FetchFailure("cannot set up tls for " + relationship.bundleEndpointUrl() + ": " + clip(e.getMessage()));
        }
    }

    private TrustManager webTrust() throws GeneralSecurityException, IOException {
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        if (webRoots.isEmpty()) {
            factory.init((KeyStore) null);
        } else {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (int i = 0; i < webRoots.get().size(); i++) {
                store.setCertificateEntry("root" + i, webRoots.get().get(i));
            }
            factory.init(store);
        }
        return factory.getTrustManagers()[0];
    }

    private static String rootMessage(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }
}
