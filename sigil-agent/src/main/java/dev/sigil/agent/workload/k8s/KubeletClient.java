package dev.sigil.agent.workload.k8s;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.core.Printable;
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

/**
 * GETs the kubelet's {@code /pods}: over HTTPS to the secure port, the kubelet verified by
 * {@link KubeletTrust}, the agent authenticated by the service-account bearer token (read from
 * {@code token_file} at every request, so a rotated token is picked up) or a client certificate; or,
 * only when an operator configured {@code kubelet_read_only_port}, over plain HTTP without
 * authentication (weaker: anyone on the path can forge the answer). Redirects are not followed; the
 * exchange is bounded by {@link #REQUEST_TIMEOUT} and the body by {@code maxBytes}. Failures are
 * {@link KubeletException}s naming the url and what to check; the token never reaches a message.
 */
final class KubeletClient implements K8sWorkloadAttestor.PodSource {
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final HttpClient client;
    private final URI url;
    private final Optional<Path> tokenFile;
    private final int maxBytes;

    private KubeletClient(HttpClient client, URI url, Optional<Path> tokenFile, int maxBytes) {
        this.client = client;
        this.url = url;
        this.tokenFile = tokenFile;
        this.maxBytes = maxBytes;
    }

    /** A client of the secure port, authenticating with the token in {@code tokenFile} or with {@code certificate}. */
    static KubeletClient secure(String host, int port, Path caFile, String serverName, Optional<Path> tokenFile,
                                Optional<KubeletTrust.ClientCertificate> certificate, int maxBytes) {
        SSLContext tls = KubeletTrust.context(caFile, serverName, certificate);
        HttpClient client = HttpClient.newBuilder().sslContext(tls).connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER).build();
        return new KubeletClient(client, URI.create("https://" + hostPart(host) + ":" + port + "/pods"),
                certificate.isPresent() ? Optional.empty() : tokenFile, maxBytes);
    }

    /** A client of the unauthenticated read-only port (plain HTTP): only when an operator opted in. */
    static KubeletClient readOnly(String host, int port, int maxBytes) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).followRedirects(HttpClient.Redirect.NEVER).build();
        return new KubeletClient(client, URI.create("http://" + hostPart(host) + ":" + port + "/pods"), Optional.empty(), maxBytes);
    }

    private static String hostPart(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    URI url() {
        return url;
    }

    @Override
    public PodList pods() {
        HttpRequest.Builder request = HttpRequest.newBuilder(url).timeout(REQUEST_TIMEOUT).header("Accept", "application/json").GET();
        if (tokenFile.isPresent()) {
            request.header("Authorization", "Bearer " + token(tokenFile.get()));
        }
        CompletableFuture<HttpResponse<byte[]>> exchange = client.sendAsync(request.build(), info -> info.statusCode() == 200
                ? new LimitedBody(maxBytes) : HttpResponse.BodySubscribers.replacing(new byte[0]));
        HttpResponse<byte[]> response;
        try {
            response = exchange.get(REQUEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            exchange.cancel(true);
            throw new KubeletException("kubelet at " + url + " sent no complete answer within " + REQUEST_TIMEOUT.toSeconds() + "s", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new KubeletException("cannot list pods from the kubelet at " + url + ": " + reason(cause), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KubeletException("interrupted while listing pods from the kubelet at " + url, e);
        }
        return switch (response.statusCode()) {
            case 200 -> parse(response.body());
            case 401 -> throw new KubeletException("kubelet at " + url + " answered http 401: it does not accept the agent's "
                    + (tokenFile.isPresent() ? "bearer token from token_file " + tokenFile.get() : "credentials")
                    + "; check that the file holds a current service-account token");
            case 403 -> throw new KubeletException("kubelet at " + url + " answered http 403: the agent's identity may not list pods;"
                    + " grant its service account 'get' on the 'nodes/proxy' resource");
            default -> throw new KubeletException("kubelet at " + url + " answered http " + response.statusCode() + "; expected 200");
        };
    }

    private PodList parse(byte[] body) {
        try {
            return JSON.readValue(body, PodList.class);
        } catch (JsonProcessingException e) {
            throw new KubeletException("kubelet at " + url + " answered with something that is not a pod list: "
                    + Printable.clip(e.getOriginalMessage(), 120), e);
        } catch (IOException e) {
            throw new KubeletException("cannot read the pod list from the kubelet at " + url + ": " + Printable.reason(e), e);
        }
    }

    /** The token, trimmed; read at every request so a rotated projected token is used once rotated. */
    private static String token(Path file) {
        String token;
        try {
            token = Files.readString(file, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new KubeletException("cannot read token_file " + file + ": " + Printable.reason(e)
                    + "; the agent needs a service-account token to call the kubelet", e);
        }
        if (token.isEmpty() || token.chars().anyMatch(c -> c <= ' ' || c > '~')) {
            throw new KubeletException("token_file " + file + " does not hold one bearer token (it is empty or has spaces or"
                    + " control characters)");
        }
        return token;
    }

    /** The deepest cause, for messages such as "PKIX path building failed" that name what to fix. */
    private static String reason(Throwable failure) {
        Throwable deepest = failure;
        while (deepest.getCause() != null && deepest.getCause() != deepest) {
            if (deepest instanceof java.security.cert.CertificateException) {
                break;
            }
            deepest = deepest.getCause();
        }
        String why = Printable.reason(deepest);
        boolean tls = failure instanceof javax.net.ssl.SSLException || deepest instanceof java.security.cert.CertificateException;
        return tls ? "the kubelet cannot be verified (" + why + "); no identity is served until it can" : why;
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
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer buffer : buffers) {
                if (out.size() + buffer.remaining() > limit) {
                    subscription.cancel();
                    result.completeExceptionally(new IOException("the pod list is larger than max_pod_list_bytes (" + limit + " bytes)"));
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
}
