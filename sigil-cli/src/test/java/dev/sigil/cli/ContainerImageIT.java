package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container image Jib wrote (profile {@code image}; skipped otherwise), run without a container engine:
 * its layers are unpacked into a root file system and its entrypoint runs there under chroot, as the
 * image's user, with /proc, /dev and a tmpfs /tmp mounted as a container runtime would (in a private mount
 * namespace, so nothing leaks to the host). So the image's own Java runtime and glibc serve the real
 * commands: {@code --version}, and {@code dev} answering a Workload API fetch. Needs root (chroot) and unshare.
 */
@Timeout(150)
class ContainerImageIT {
    private static final String IMAGE = System.getProperty("sigil.image.tar", "");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path temp;

    Path rootfs;
    JsonNode config;

    @BeforeEach
    void unpackLayers() throws Exception {
        assumeThat(IMAGE).as("built with -Pimage").isNotEmpty();
        assumeThat(Path.of("/usr/bin/unshare")).isExecutable();
        assumeThat(shell("id -u", 10).strip()).as("root, for chroot").isEqualTo("0");
        Path image = Files.createDirectories(temp.resolve("image"));
        shell("tar -xf '" + IMAGE + "' -C '" + image + "'", 60);
        JsonNode manifest = JSON.readTree(image.resolve("manifest.json").toFile()).get(0);
        config = JSON.readTree(image.resolve(manifest.path("Config").asText()).toFile()).path("config");
        rootfs = Files.createDirectories(temp.resolve("rootfs"));
        for (JsonNode layer : manifest.path("Layers")) {
            shell("tar -xzf '" + image.resolve(layer.asText()) + "' -C '" + rootfs + "' 2>/dev/null", 60);
        }
    }

    @Test
    void theImageRunsAsAnUnprivilegedUserOnItsOwnJavaRuntime() throws Exception {
        assertThat(config.path("User").asText()).isEqualTo("65532:65532");
        assertThat(config.path("Entrypoint").get(0).asText()).isEqualTo("/opt/java/bin/java");
        assertThat(rootfs.resolve("etc/passwd")).content().contains("nonroot:x:65532:65532");
        assertThat(inContainer("exec " + entrypoint() + " --version")).contains("sigil 0.");
    }

    @Test
    void devInTheImageServesAnSvidThroughTheWorkloadApi() throws Exception {
        String output = inContainer("""
                timeout 100 chroot --userspec=65532:65532 rootfs %1$s dev --data-dir /tmp/dev --bundle-port 0 --agent-api-port 0 \
                  --token-port 0 > dev.log 2>&1 &
                dev=$!
                for i in $(seq 1 400); do [ -S rootfs/tmp/dev/public/api.sock ] && break; kill -0 $dev || break; sleep 0.25; done
                SPIFFE_ENDPOINT_SOCKET=unix:///tmp/dev/public/api.sock chroot --userspec=65532:65532 rootfs %1$s agent api fetch x509
                kill -TERM $dev; wait $dev || true
                """.formatted(entrypoint()));
        assertThat(output).as(Files.readString(temp.resolve("dev.log"))).contains("SPIFFE ID        : spiffe://sigil.test/dev/nonroot");
    }

    private String entrypoint() {
        List<String> words = new ArrayList<>();
        config.path("Entrypoint").forEach(word -> words.add("'" + word.asText() + "'"));
        return String.join(" ", words);
    }

    /** Runs {@code script} in a private mount namespace with the container's mounts, from {@link #temp}. */
    private String inContainer(String script) throws Exception {
        Files.createDirectories(rootfs.resolve("proc"));
        Files.createDirectories(rootfs.resolve("dev"));
        Files.createDirectories(rootfs.resolve("tmp"));
        String mounts = "set -e\nmount -t proc proc rootfs/proc\nmount --rbind /dev rootfs/dev\nmount -t tmpfs -o mode=1777 tmpfs rootfs/tmp\n";
        String body = script.startsWith("exec ") ? "chroot --userspec=65532:65532 rootfs " + script.substring(5) : script;
        Path file = temp.resolve("container.sh");
        Files.writeString(file, mounts + body + "\n");
        return shell("unshare -m sh '" + file + "'", 130);
    }

    private String shell(String command, int seconds) throws Exception {
        Process process = new ProcessBuilder("sh", "-c", command).directory(temp.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(seconds, TimeUnit.SECONDS)).as(command).isTrue();
        assertThat(process.exitValue()).as("%s:\n%s", command, output).isZero();
        return output;
    }
}
