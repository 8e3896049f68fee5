package dev.sigil.agent.workload.k8s;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The part of the kubelet's {@code /pods} answer (a core/v1 {@code PodList}) the attestor reads. Unknown
 * fields are ignored; absent lists and maps read as empty, never null.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
record PodList(@JsonProperty("items") List<Pod> items) {
    PodList {
        items = items == null ? List.of() : List.copyOf(items);
    }

    /** The pod with uid {@code uid}, if listed. */
    Optional<Pod> pod(String uid) {
        return items.stream().filter(pod -> uid.equals(pod.metadata().uid())).findFirst();
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Pod(@JsonProperty("metadata") Metadata metadata, @JsonProperty("spec") Spec spec, @JsonProperty("status") Status status) {
        Pod {
            metadata = metadata == null ? new Metadata(null, null, null, null) : metadata;
            spec = spec == null ? new Spec(null, null) : spec;
            status = status == null ? new Status(null, null, null) : status;
        }

        /** The status of the container whose runtime id is {@code containerId}, among all three kinds. */
        Optional<ContainerStatus> container(String containerId) {
            return Stream.of(status.containerStatuses(), status.initContainerStatuses(), status.ephemeralContainerStatuses())
                    .flatMap(List::stream)
                    .filter(container -> container.runtimeId().filter(containerId::equals).isPresent())
                    .findFirst();
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Metadata(@JsonProperty("name") String name, @JsonProperty("namespace") String namespace, @JsonProperty("uid") String uid,
                    @JsonProperty("labels") Map<String, String> labels) {
        Metadata {
            labels = labels == null ? Map.of() : Map.copyOf(labels);
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Spec(@JsonProperty("nodeName") String nodeName, @JsonProperty("serviceAccountName") String serviceAccountName) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Status(@JsonProperty("containerStatuses") List<ContainerStatus> containerStatuses,
                  @JsonProperty("initContainerStatuses") List<ContainerStatus> initContainerStatuses,
                  @JsonProperty("ephemeralContainerStatuses") List<ContainerStatus> ephemeralContainerStatuses) {
        Status {
            containerStatuses = orEmpty(containerStatuses);
            initContainerStatuses = orEmpty(initContainerStatuses);
            ephemeralContainerStatuses = orEmpty(ephemeralContainerStatuses);
        }

        private static List<ContainerStatus> orEmpty(List<ContainerStatus> list) {
            return list == null ? List.of() : new ArrayList<>(list).stream().filter(java.util.Objects::nonNull).toList();
        }
    }

    /**
     * One container's status. {@code containerID} is {@code <runtime>://<id>} ({@code containerd://},
     * {@code cri-o://}, {@code docker://}); absent while the container is being created.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record ContainerStatus(@JsonProperty("name") String name, @JsonProperty("image") String image,
                           @JsonProperty("imageID") String imageId, @JsonProperty("containerID") String containerId) {
        /** The id without its runtime scheme, when the status has one. */
        Optional<String> runtimeId() {
            if (containerId == null || containerId.isEmpty()) {
                return Optional.empty();
            }
            int scheme = containerId.indexOf("://");
            return Optional.of(scheme < 0 ? containerId : containerId.substring(scheme + 3));
        }
    }
}
