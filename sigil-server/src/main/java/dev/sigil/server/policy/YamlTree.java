package dev.sigil.server.policy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A YAML document read into plain nodes that remember their line, so that every validation error can
 * name where it is. Duplicate keys are refused (YAML would otherwise keep the last silently).
 */
final class YamlTree {
    private static final YAMLFactory FACTORY = new YAMLFactory();

    sealed interface Node {
        int line();
    }

    record Scalar(int line, String text, boolean isNull) implements Node {
    }

    record Sequence(int line, List<Node> items) implements Node {
    }

    record Mapping(int line, Map<String, Node> fields, Map<String, Integer> keyLines) implements Node {
    }

    private YamlTree() {
    }

    static Node parse(String text) {
        try (JsonParser parser = FACTORY.createParser(text)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                return new Mapping(1, Map.of(), Map.of());
            }
            Node root = read(parser);
            if (parser.nextToken() != null) {
                throw new PolicyDocumentException(Math.max(1, parser.currentTokenLocation().getLineNr()),
                        "a second yaml document follows; a policy is exactly one document");
            }
            return root;
        } catch (JsonProcessingException e) {
            int line = e.getLocation() == null ? 1 : Math.max(1, e.getLocation().getLineNr());
            throw new PolicyDocumentException(line, "not valid yaml: " + dev.sigil.core.Printable.clip(problem(e.getOriginalMessage()), 400));
        } catch (IOException e) {
            throw new PolicyDocumentException(1, "not valid yaml: " + dev.sigil.core.Printable.reason(e));
        }
    }

    /**
     * The parser's problem without the echo of the document: SnakeYAML appends, indented, where it was
     * ({@code in 'reader', line 3...}), the offending line and a caret; those lines are dropped (the line
     * number is reported separately), so a refusal does not quote the policy back.
     */
    private static String problem(String message) {
        if (message == null) {
            return "unreadable document";
        }
        String kept = message.lines().filter(line -> !line.isEmpty() && !Character.isWhitespace(line.charAt(0)))
                .collect(java.util.stream.Collectors.joining("; "));
        return kept.isEmpty() ? "unreadable document" : kept;
    }

    private static Node read(JsonParser parser) throws IOException {
        int line = Math.max(1, parser.currentTokenLocation().getLineNr());
        JsonToken token = parser.currentToken();
        switch (token) {
            case START_OBJECT -> {
                Map<String, Node> fields = new LinkedHashMap<>();
                Map<String, Integer> keyLines = new LinkedHashMap<>();
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String key = parser.currentName();
                    int keyLine = Math.max(1, parser.currentTokenLocation().getLineNr());
                    if (fields.containsKey(key)) {
                        throw new PolicyDocumentException(keyLine, "duplicate key '" + key + "'");
                    }
                    parser.nextToken();
                    fields.put(key, read(parser));
                    keyLines.put(key, keyLine);
                }
                return new Mapping(line, fields, keyLines);
            }
            case START_ARRAY -> {
                List<Node> items = new ArrayList<>();
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    items.add(read(parser));
                }
                return new Sequence(line, items);
            }
            case VALUE_NULL -> {
                return new Scalar(line, "", true);
            }
            default -> {
                return new Scalar(line, parser.getText(), false);
            }
        }
    }
}
