package dev.sigil.agent.workload.k8s;

import dev.sigil.agent.config.AgentConfigException;
import dev.sigil.agent.workload.WorkloadAttestor;
import dev.sigil.agent.workload.WorkloadAttestorPlugin;
import dev.sigil.core.plugin.NamedPlugin;
import dev.sigil.core.time.Durations;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * The {@code k8s} workload attestor plugin ({@code workload_attestors.k8s}); see docs/kubernetes.md.
 * There is deliberately no setting that skips verifying the kubelet.
 */
public final class K8sWorkloadAttestorPlugin extends NamedPlugin<K8sWorkloadAttestorPlugin.Settings>
        implements WorkloadAttestorPlugin<K8sWorkloadAttestorPlugin.Settings> {
    static final Path SERVICE_ACCOUNT = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");

    /**
     * {@code workload_attestors.k8s}. Every setting has a default suited to an agent running as a
     * DaemonSet pod with {@code hostNetwork: true}.
     *
     * @param kubeletHost         where the kubelet listens (default {@code 127.0.0.1})
     * @param kubeletSecurePort   its authenticated HTTPS port (default 10250)
     * @param kubeletReadOnlyPort when set, the unauthenticated plain-HTTP port is used instead (weaker; off by default)
     * @param kubeletCaFile       the CA that signed the kubelet's serving certificate (default the service-account {@code ca.crt})
     * @param kubeletServerName   the DNS name or IP address the kubelet's certificate must carry (default the
     *                            {@code SIGIL_NODE_NAME} environment variable when set, else {@code kubelet_host})
     * @param tokenFile           the bearer token to present (default the service-account {@code token}); re-read at every request
     * @param clientCertFile      a PEM client certificate to present instead of the token (with {@code client_key_file})
     * @param podListCacheTtl     how long one pod list answers attestations (default 5s)
     * @param maxPollAttempts     lookups of a container before it is an error (default 60)
     * @param pollRetryInterval   the pause between lookups (default 500ms)
     * @param maxPodListBytes     the largest pod list accepted (default 16 MiB)
     */
    public record Settings(String kubeletHost, Integer kubeletSecurePort, Integer kubeletReadOnlyPort, Path kubeletCaFile,
                           String kubeletServerName, Path tokenFile, Path clientCertFile, Path clientKeyFile,
                           Duration podListCacheTtl, Integer maxPollAttempts, Duration pollRetryInterval, Integer maxPodListBytes) {
        public Settings {
            kubeletHost = kubeletHost == null ? "127.0.0.1" : kubeletHost;
            if (kubeletHost.isBlank() || kubeletHost.contains("/") || kubeletHost.contains("@")) {
                throw new AgentConfigException("workload_attestors.k8s.kubelet_host '" + dev.sigil.core.Printable.clip(kubeletHost)
                        + "' is not a host name or address");
            }
            kubeletSecurePort = port("kubelet_secure_port", kubeletSecurePort == null ? 10250 : kubeletSecurePort);
            if (kubeletReadOnlyPort != null) {
                port("kubelet_read_only_port", kubeletReadOnlyPort);
            }
            kubeletCaFile = kubeletCaFile == null ? SERVICE_ACCOUNT.resolve("ca.crt") : kubeletCaFile;
            tokenFile = tokenFile == null ? SERVICE_ACCOUNT.resolve("token") : tokenFile;
            if ((clientCertFile == null) != (clientKeyFile == null)) {
                throw new AgentConfigException("workload_attestors.k8s needs both client_cert_file and client_key_file, or neither");
            }
            podListCacheTtl = podListCacheTtl == null ? Duration.ofSeconds(5) : podListCacheTtl;
            if (podListCacheTtl.isNegative() || podListCacheTtl.compareTo(Duration.ofMinutes(1)) > 0) {
                throw new AgentConfigException("workload_attestors.k8s.pod_list_cache_ttl is " + Durations.format(podListCacheTtl)
                        + "; it must be 0s to 1m (a longer cache delays drift detection)");
            }
            maxPollAttempts = maxPollAttempts == null ? 60 : maxPollAttempts;
            if (maxPollAttempts < 1 || maxPollAttempts > 600) {
                throw new AgentConfigException("workload_attestors.k8s.max_poll_attempts is " + maxPollAttempts + "; it must be 1 to 600");
            }
            pollRetryInterval = pollRetryInterval == null ? Duration.ofMillis(500) : pollRetryInterval;
            if (pollRetryInterval.isNegative() || pollRetryInterval.isZero() || pollRetryInterval.compareTo(Duration.ofSeconds(10)) > 0) {
                throw new AgentConfigException("workload_attestors.k8s.poll_retry_interval is " + Durations.format(pollRetryInterval)
                        + "; it must be more than 0s and at most 10s");
            }
            maxPodListBytes = maxPodListBytes == null ? 16 * 1024 * 1024 : maxPodListBytes;
            if (maxPodListBytes < 1024) {
                throw new AgentConfigException("workload_attestors.k8s.max_pod_list_bytes is " + maxPodListBytes + "; it must be at least 1024");
            }
        }

        private static int port(String key, int port) {
            if (port < 1 || port > 65535) {
                throw new AgentConfigException("workload_attestors.k8s." + key + " is " + port + "; a port is 1 to 65535");
            }
            return port;
        }
    }

    public K8sWorkloadAttestorPlugin() {
        super(K8sWorkloadAttestor.TYPE, Settings.class);
    }

    @Override
    public WorkloadAttestor create(Settings settings, Context context) {
        return new K8sWorkloadAttestor(context.procRoot(), kubelet(settings), Clock.systemUTC(), settings.podListCacheTtl(),
                settings.maxPollAttempts(), settings.pollRetryInterval());
    }

    /** Set from the pod's {@code spec.nodeName} in a DaemonSet: the name the node's kubelet certificate carries. */
    static final String NODE_NAME_VARIABLE = "SIGIL_NODE_NAME";

    static KubeletClient kubelet(Settings settings) {
        return kubelet(settings, Optional.ofNullable(System.getenv(NODE_NAME_VARIABLE)).filter(name -> !name.isBlank()));
    }

    static KubeletClient kubelet(Settings settings, Optional<String> nodeName) {
        String serverName = settings.kubeletServerName() != null ? settings.kubeletServerName() : nodeName.orElse(settings.kubeletHost());
        if (settings.kubeletReadOnlyPort() != null) {
            return KubeletClient.readOnly(settings.kubeletHost(), settings.kubeletReadOnlyPort(), settings.maxPodListBytes());
        }
        Optional<KubeletTrust.ClientCertificate> certificate = settings.clientCertFile() == null ? Optional.empty()
                : Optional.of(new KubeletTrust.ClientCertificate(settings.clientCertFile(), settings.clientKeyFile()));
        return KubeletClient.secure(settings.kubeletHost(), settings.kubeletSecurePort(), settings.kubeletCaFile(),
                serverName, Optional.of(settings.tokenFile()), certificate, settings.maxPodListBytes());
    }
}
