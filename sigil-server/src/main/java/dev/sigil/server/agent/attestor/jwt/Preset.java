package dev.sigil.server.agent.attestor.jwt;

import java.util.List;
import java.util.Optional;

/**
 * The claim mappings of a well-known token issuer, so an operator names the platform instead of its
 * claims. Every mapping's selector is {@code jwt:<selector>:<value>}; required claims refuse a token
 * that lacks them.
 */
enum Preset {
    /**
     * Kubernetes projected service account tokens (bound to a pod; Kubernetes 1.30+ adds the node).
     * Also gives {@code jwt:k8s:cluster:<cluster>} from the configuration, and the agent ID
     * {@code /sigil/agent/jwt/k8s_psat/<cluster>/<node uid>}.
     */
    K8S_PSAT("k8s_psat", "k8s", List.of(
            new ClaimMapping("kubernetes.io.namespace", "k8s:ns", true),
            new ClaimMapping("kubernetes.io.serviceaccount.name", "k8s:sa", true),
            new ClaimMapping("kubernetes.io.pod.name", "k8s:pod-name", true),
            new ClaimMapping("kubernetes.io.pod.uid", "k8s:pod-uid", true),
            new ClaimMapping("kubernetes.io.node.name", "k8s:node-name", true),
            new ClaimMapping("kubernetes.io.node.uid", "k8s:node-uid", true))),
    /** GitHub Actions OIDC tokens ({@code permissions: id-token: write}). */
    GITHUB_ACTIONS("github_actions", "github", List.of(
            new ClaimMapping("repository", "github:repository", true),
            new ClaimMapping("repository_owner", "github:repository_owner", true),
            new ClaimMapping("ref", "github:ref", true),
            new ClaimMapping("workflow", "github:workflow", true),
            new ClaimMapping("environment", "github:environment", false),
            new ClaimMapping("job_workflow_ref", "github:job_workflow_ref", true))),
    /** GitLab CI {@code id_tokens}. */
    GITLAB_CI("gitlab_ci", "gitlab", List.of(
            new ClaimMapping("project_path", "gitlab:project_path", true),
            new ClaimMapping("ref", "gitlab:ref", true),
            new ClaimMapping("environment", "gitlab:environment", false)));

    /** The claim holding the node's uid in k8s_psat tokens: the last segment of the agent ID. */
    static final String K8S_NODE_UID = "kubernetes.io.node.uid";

    private final String configName;
    private final String selectorPrefix;
    private final List<ClaimMapping> mappings;

    Preset(String configName, String selectorPrefix, List<ClaimMapping> mappings) {
        this.configName = configName;
        this.selectorPrefix = selectorPrefix;
        this.mappings = mappings;
    }

    /** The name in configuration files ({@code preset: k8s_psat}). */
    String configName() {
        return configName;
    }

    /** The first part of this preset's selectors ({@code k8s}); explicit claims may use it only with this preset. */
    String selectorPrefix() {
        return selectorPrefix;
    }

    List<ClaimMapping> mappings() {
        return mappings;
    }

    static Optional<Preset> named(String name) {
        for (Preset preset : values()) {
            if (preset.configName.equals(name)) {
                return Optional.of(preset);
            }
        }
        return Optional.empty();
    }

    static List<String> names() {
        return java.util.Arrays.stream(values()).map(Preset::configName).toList();
    }
}
