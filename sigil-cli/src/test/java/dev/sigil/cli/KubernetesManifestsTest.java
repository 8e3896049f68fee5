package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.sigil.agent.config.AgentConfig;
import dev.sigil.agent.config.AgentConfigLoader;
import dev.sigil.agent.config.AgentEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/kubernetes, checked without a cluster: every manifest parses, and the shapes that make the
 * quickstart work or keep it safe hold — the agent shares the host's pid namespace, its socket directory is
 * the hostPath workloads mount, its projected token is where its configuration reads it and carries the
 * audience the server expects; the server runs as non-root on a read-only root filesystem with probes;
 * both embedded configurations load with the real loaders.
 */
@Timeout(60)
class KubernetesManifestsTest {
    private static final Path MANIFESTS = Path.of("").toAbsolutePath().getParent().resolve("deploy/kubernetes");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Map<String, String> API_VERSIONS = Map.of("Namespace", "v1", "Secret", "v1", "Service", "v1",
            "ServiceAccount", "v1", "ConfigMap", "v1", "StatefulSet", "apps/v1", "DaemonSet", "apps/v1",
            "Kustomization", "kustomize.config.k8s.io/v1beta1");

    static List<JsonNode> objects;

    @TempDir
    Path temp;

    @BeforeAll
    static void parse() throws Exception {
        objects = new ArrayList<>();
        try (Stream<Path> files = Files.list(MANIFESTS)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                try (MappingIterator<JsonNode> documents = YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
                    documents.readAll().stream().filter(node -> !node.isNull() && !node.isMissingNode()).forEach(objects::add);
                }
            }
        }
    }

    @Test
    void everyObjectHasAKnownKindWithItsApiVersionInTheSigilNamespace() {
        assertThat(objects).hasSizeGreaterThanOrEqualTo(12);
        for (JsonNode object : objects) {
            String kind = object.path("kind").asText();
            assertThat(API_VERSIONS).as("kind of %s", object.path("metadata")).containsKey(kind);
            assertThat(object.path("apiVersion").asText()).as(kind).isEqualTo(API_VERSIONS.get(kind));
            if (!kind.equals("Namespace") && !kind.equals("Kustomization")) {
                assertThat(object.at("/metadata/namespace").asText()).as(kind + " " + name(object)).isEqualTo("sigil-system");
            }
        }
    }

    @Test
    void theKustomizationAppliesEveryManifest() throws Exception {
        JsonNode kustomization = one("Kustomization", "");
        try (Stream<Path> files = Files.list(MANIFESTS)) {
            assertThat(kustomization.path("resources")).extracting(JsonNode::asText).containsExactlyInAnyOrderElementsOf(
                    files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".yaml") && !f.equals("kustomization.yaml")).toList());
        }
    }

    @Test
    void workloadsSelectTheirOwnPodsAndServicesReachNamedPorts() {
        for (JsonNode workload : ofKind("StatefulSet", "DaemonSet")) {
            JsonNode labels = workload.at("/spec/template/metadata/labels");
            workload.at("/spec/selector/matchLabels").fields()
                    .forEachRemaining(label -> assertThat(labels.path(label.getKey())).isEqualTo(label.getValue()));
        }
        JsonNode server = one("StatefulSet", "sigil-server");
        JsonNode service = one("Service", server.at("/spec/serviceName").asText());
        List<String> containerPorts = container(server).path("ports").findValuesAsText("name");
        assertThat(service.at("/spec/ports").findValuesAsText("targetPort")).isNotEmpty().allMatch(containerPorts::contains);
        assertThat(service.at("/spec/selector")).isEqualTo(server.at("/spec/selector/matchLabels"));
    }

    @Test
    void theServerRunsAsNonRootOnAReadOnlyRootWithProbesAndItsOwnVolume() throws Exception {
        JsonNode server = one("StatefulSet", "sigil-server");
        assertThat(server.at("/spec/template/spec/securityContext/runAsNonRoot").asBoolean()).isTrue();
        JsonNode container = container(server);
        assertThat(container.at("/securityContext/readOnlyRootFilesystem").asBoolean()).isTrue();
        assertThat(container.at("/securityContext/allowPrivilegeEscalation").asBoolean(true)).isFalse();
        assertThat(container.at("/securityContext/capabilities/drop")).extracting(JsonNode::asText).containsExactly("ALL");
        assertThat(container.has("readinessProbe") && container.has("livenessProbe")).isTrue();
        assertThat(server.at("/spec/volumeClaimTemplates/0/metadata/name").asText()).isEqualTo("data");

        Path config = configFile("sigil-server", "server.yaml");
        JsonNode settings = YAML.readTree(config.toFile());
        assertThat(settings.path("data_dir").asText()).startsWith(mountPath(container, "data") + "/");
        String jwks = settings.at("/node_attestors/jwt/issuers/0/jwks").asText();
        assertThat(Path.of(jwks).getParent()).isEqualTo(Path.of(mountPath(container, "jwks")));
        assertThat(mountPath(container, "tmp")).isEqualTo("/tmp");

        // the real validator: every key, every plugin's settings (the cluster's JWKS stands in for the ConfigMap)
        Files.writeString(temp.resolve("jwks.json"), "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k\",\"use\":\"sig\","
                + "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}");
        Files.writeString(config, Files.readString(config).replace(jwks, temp.resolve("jwks.json").toString()));
        CliHarness.Result validate = new CliHarness(Map.of("SIGIL_DATASTORE_PASSWORD", "example"), temp)
                .run("server", "validate", "--config", config.toString());
        assertThat(validate.exitCode()).as(validate.err()).isZero();
    }

    @Test
    void theAgentSharesTheHostPidNamespaceAndServesItsSocketOnTheHostPath() throws Exception {
        JsonNode agent = one("DaemonSet", "sigil-agent");
        JsonNode pod = agent.at("/spec/template/spec");
        assertThat(pod.path("hostPID").asBoolean()).isTrue();
        assertThat(pod.path("hostNetwork").asBoolean(false)).isFalse();
        JsonNode container = container(agent);
        assertThat(container.at("/securityContext/readOnlyRootFilesystem").asBoolean()).isTrue();
        assertThat(container.at("/securityContext/privileged").asBoolean(false)).isFalse();
        assertThat(container.at("/securityContext/capabilities/add")).extracting(JsonNode::asText).containsExactly("SYS_PTRACE");
        assertThat(container.at("/securityContext/capabilities/drop")).extracting(JsonNode::asText).containsExactly("ALL");

        AgentConfig config = AgentConfigLoader.load(Optional.of(configFile("sigil-agent", "agent.yaml")), AgentEnvironment.of(Map.of(), temp));
        Path socketDir = config.workloadApiSocket().getParent();
        assertThat(Path.of(mountPath(container, "workload-api"))).isEqualTo(socketDir);
        assertThat(volume(pod, "workload-api").at("/hostPath/path").asText()).isEqualTo(socketDir.toString());
        assertThat(Path.of(mountPath(container, "data"))).isEqualTo(config.dataDir());
        assertThat(config.bootstrap()).isInstanceOfSatisfying(AgentConfig.TrustBootstrap.BundleFile.class,
                bundle -> assertThat(bundle.path().getParent()).isEqualTo(Path.of(mountPath(container, "bundle"))));
        assertThat(config.serverAddresses().get(0).host()).isEqualTo("sigil-server.sigil-system.svc");
    }

    @Test
    void theAgentsProjectedTokenIsWhereItReadsItAndForTheServersK8sPsatIssuer() throws Exception {
        JsonNode agent = one("DaemonSet", "sigil-agent");
        JsonNode container = container(agent);
        JsonNode agentConfig = YAML.readTree(configFile("sigil-agent", "agent.yaml").toFile());
        assertThat(agentConfig.at("/node_attestor/type").asText()).isEqualTo("jwt");
        Path tokenPath = Path.of(agentConfig.at("/node_attestor/token_path").asText());

        JsonNode projected = volume(agent.at("/spec/template/spec"), "sigil-agent-token").at("/projected/sources/0/serviceAccountToken");
        assertThat(Path.of(mountPath(container, "sigil-agent-token")).resolve(projected.path("path").asText())).isEqualTo(tokenPath);
        assertThat(projected.path("expirationSeconds").asInt()).isEqualTo(600);

        JsonNode issuer = YAML.readTree(configFile("sigil-server", "server.yaml").toFile()).at("/node_attestors/jwt/issuers/0");
        assertThat(issuer.path("preset").asText()).isEqualTo("k8s_psat");
        assertThat(projected.path("audience").asText()).isEqualTo(issuer.path("audience").asText());
        assertThat(agentConfig.path("trust_domain")).isEqualTo(YAML.readTree(configFile("sigil-server", "server.yaml").toFile()).path("trust_domain"));
    }

    private Path configFile(String configMap, String key) throws Exception {
        Path file = temp.resolve(configMap + "-" + key);
        Files.writeString(file, one("ConfigMap", configMap).at("/data").path(key).asText());
        return file;
    }

    private static JsonNode container(JsonNode workload) {
        JsonNode containers = workload.at("/spec/template/spec/containers");
        assertThat(containers).hasSize(1);
        return containers.get(0);
    }

    private static String mountPath(JsonNode container, String volume) {
        for (JsonNode mount : container.path("volumeMounts")) {
            if (mount.path("name").asText().equals(volume)) {
                return mount.path("mountPath").asText();
            }
        }
        throw new AssertionError("no mount of volume " + volume + " in " + container.path("name"));
    }

    private static JsonNode volume(JsonNode pod, String name) {
        for (JsonNode volume : pod.path("volumes")) {
            if (volume.path("name").asText().equals(name)) {
                return volume;
            }
        }
        throw new AssertionError("no volume " + name);
    }

    private static List<JsonNode> ofKind(String... kinds) {
        return objects.stream().filter(o -> List.of(kinds).contains(o.path("kind").asText())).toList();
    }

    private static JsonNode one(String kind, String name) {
        List<JsonNode> matching = ofKind(kind).stream().filter(o -> name.isEmpty() || name(o).equals(name)).toList();
        assertThat(matching).as(kind + " " + name).hasSize(1);
        return matching.get(0);
    }

    private static String name(JsonNode object) {
        return object.at("/metadata/name").asText();
    }
}
