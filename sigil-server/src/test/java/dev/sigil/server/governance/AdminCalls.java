package dev.sigil.server.governance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.server.SigilServer;
import dev.sigil.server.testing.RawHttp;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Calls through the server's real admin socket, as the CLI and a console do. */
final class AdminCalls {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AdminCalls() {
    }

    static JsonNode call(SigilServer server, String method, String path, String body) throws Exception {
        RawHttp.Reply reply = body == null ? RawHttp.unix(server.admin().socketPath(), method, path)
                : RawHttp.unix(server.admin().socketPath(), method, path, "application/json", body.getBytes(StandardCharsets.UTF_8));
        assertThat(reply.status()).as(method + " " + path + ": " + reply.body()).isBetween(200, 299);
        return JSON.readTree(reply.body());
    }

    static RawHttp.Reply raw(SigilServer server, String method, String path, String body) throws Exception {
        return RawHttp.unix(server.admin().socketPath(), method, path, "application/json", body.getBytes(StandardCharsets.UTF_8));
    }

    /** The findings of {@code check} in a posture report. */
    static List<JsonNode> findings(JsonNode posture, String check) {
        List<JsonNode> found = new ArrayList<>();
        posture.path("findings").forEach(f -> {
            if (f.path("check").asText().equals(check)) {
                found.add(f);
            }
        });
        return found;
    }

    static List<String> texts(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(v -> values.add(v.asText()));
        return values;
    }
}
