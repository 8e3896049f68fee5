package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.cli.server.Logging;
import dev.sigil.core.observability.LogFormat;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** {@code log_format: json}: one JSON object a line, with the request id, and no way for a logged value to forge a line. */
class LoggingFormatTest {
    private static final Logger LOG = LoggerFactory.getLogger("dev.sigil.server.token.TokenHandler");

    @Test
    void jsonLinesCarryTheRequestIdAndEscapeWhatAClientSent() throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            Logging.apply("info");
            Logging.format(LogFormat.JSON);
            MDC.put("request_id", "00000000cafef00d");
            try {
                LOG.warn("refused a request for {}", "/x\n2026-01-01T00:00:00Z INFO forged - admin granted");
            } finally {
                MDC.remove("request_id");
            }
        } finally {
            Logging.format(LogFormat.TEXT);
            Logging.apply("warn");
            System.setErr(original);
        }
        List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().filter(line -> !line.isBlank()).toList();
        assertThat(lines).hasSize(1);
        JsonNode line = new ObjectMapper().readTree(lines.getFirst());
        assertThat(line.path("level").asText()).isEqualTo("WARN");
        assertThat(line.path("loggerName").asText()).isEqualTo("dev.sigil.server.token.TokenHandler");
        assertThat(line.path("mdc").path("request_id").asText()).isEqualTo("00000000cafef00d");
        assertThat(line.path("formattedMessage").asText()).startsWith("refused a request for /x\n2026");
    }
}
