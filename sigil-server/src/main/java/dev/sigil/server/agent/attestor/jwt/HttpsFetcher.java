package dev.sigil.server.agent.attestor.jwt;

import dev.sigil.core.Printable;
import dev.sigil.core.crypto.Pem;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * GETs small documents (OIDC discovery, JWKS) from an issuer over HTTPS only: the server certificate is
 * verified (against {@code ca_bundle_file} when set, else the JDK's trusted roots) including its host
 * name, redirects are not followed, connecting and reading are bounded by timeouts and the body by
 * {@link #MAX_BYTES}. Failures are {@link FetchException}s whose message names the URL and the cause.
 */
final class HttpsFetcher {
    static final int MAX_BYTES = 256 * 1024;
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private final HttpClient client;

    private HttpsFetcher(HttpClient client) {
        this.client = client;
    }

    /** A fetcher trusting the PEM certificates in {@code caBundle}, or the JDK's roots when empty. */
    static HttpsFetcher create(Optional<Path> caBundle) {
        HttpClient.Builder builder = HttpClient.newBuilder()
                .connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER);
        caBundle.ifPresent(path -> builder.sslContext(trusting(path)));
        return new HttpsFetcher(builder.build());
    }

    private static SSLContext trusting(Path caBundle) {
        List<X509Certificate> roots;
        try {
            roots = Pem.parseCertificates(Files.readString(caBundle, StandardCharsets.US_ASCII), "jwt issuer ca bundle " + caBundle);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read jwt issuer ca_bundle_file " + caBundle + ": " + Printable.reason(e), e);
        }
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (int i = 0; i < roots.size(); i++) {
                store.setCertificateEntry("ca-" + i, roots.get(i));
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("cannot use jwt issuer ca_bundle_file " + caBundle + ": " + Printable.reason(e), e);
        }
    }

    /**
     * The body of {@code url} (which must be https) when it answers 200 within {@link #REQUEST_TIMEOUT} (the
     * whole exchange, body included) and sends at most {@link #MAX_BYTES}.
     */
    byte[] get(URI url) {
        String shown = Printable.clip(url.toString());
        if (!"https".equalsIgnoreCase(url.getScheme())) {
            throw new FetchException(shown + " is not an https url; issuer documents are fetched over https only");
        }
        HttpRequest request = HttpRequest.newBuilder(url).timeout(REQUEST_TIMEOUT).header("Accept", "application/json").GET().build();
        CompletableFuture<HttpResponse<byte[]>> exchange = client.sendAsync(request, info -> info.statusCode() == 200
                ? new LimitedBody(MAX_BYTES) : HttpResponse.BodySubscribers.replacing(new byte[0]));
        HttpResponse<byte[]> response;
        try {
            response = exchange.get(REQUEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            exchange.cancel(true);
            throw new FetchException("cannot fetch " + shown + ": no complete answer within " + REQUEST_TIMEOUT.toSeconds() + "s", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new FetchException("cannot fetch " + shown + ": " + Printable.reason(cause), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FetchException("interrupted while fetching " + shown, e);
        }
        if (response.statusCode() != 200) {
            throw new FetchException(shown + " answered http " + response.statusCode() + "; expected 200");
        }
        return response.body();
    }

    /** Collects a body, failing as soon as it passes {@code limit} bytes (so a huge answer is never held). */
    private static final class LimitedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final int limit;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private Flow.Subscription subscription;

        LimitedBody(int limit) {
            this.limit = limit;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            for (ByteBuffer buffer : buffers) {
                if (out.size() + buffer.remaining() > limit) {
                    subscription.cancel();
                    result.completeExceptionally(new IOException("the answer is larger than " + limit + " bytes"));
                    return;
                }
                byte[] bytes = new byte[buffer.remaining()];
                buffer.get(bytes);
                out.write(bytes, 0, bytes.length);
            }
        }

        @Override
        public void onError(Throwable throwable) {
            result.completeExceptionally(throwable);
        }

        @Override
        public void onComplete() {
            result.complete(out.toByteArray());
        }
    }

    /** A document could not be fetched; the message names the url and why. */
    static final class FetchException extends RuntimeException {
        FetchException(String message) {
            super(message);
        }

        FetchException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
