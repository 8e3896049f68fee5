package dev.sigil.core.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.sigil.core.plugin.PluginBlocks;
import dev.sigil.core.plugin.PluginBlocksDeserializer;
import dev.sigil.core.plugin.PluginChoice;
import dev.sigil.core.plugin.PluginChoiceDeserializer;
import dev.sigil.core.plugin.PluginKind;
import dev.sigil.core.plugin.PluginRegistry;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.core.time.Durations;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * One YAML configuration file format, as the server and the agent both read theirs: the file binds to
 * a record of optional keys ({@code rootType}, null when absent; defaults are the loader's business),
 * keys are snake_case, and every mistake is refused before anything starts with one line naming the
 * file, line, key and what is valid ({@link ConfigKeys} for unknown keys, {@link ConfigErrors} for the
 * rest). Values shared by every file are typed here (durations, trust domains, paths, plugin sections
 * and plugin choices from the {@link PluginRegistry}); a file adds its own through {@code values}.
 *
 * <p>Paths in the file resolve against the file's directory, {@code ~/} against the home directory.
 *
 * @param rootType      the record the whole file binds to
 * @param empty         the value of an empty file
 * @param scalarRecords record types written as one value (like {@code host:port}), not as a mapping
 * @param sections      plugin kinds configured as a section of blocks named by plugin type
 * @param choices       plugin kinds configured as one block whose {@code type} key chooses the plugin
 *                      (with the default type, if any)
 * @param values        deserializers for the file's own scalar types
 * @param failure       the loader's exception for a message and its cause (which may be null)
 */
public record YamlConfigFile<R>(Class<R> rootType, R empty, Set<Class<?>> scalarRecords, List<PluginKind> sections,
                                Map<PluginKind, Optional<String>> choices, Consumer<SimpleModule> values,
                                BiFunction<String, Throwable, ? extends RuntimeException> failure) {

    /** Reads and binds {@code file}; an empty file is {@link #empty}. Throws the loader's exception. */
    public R read(Path file, Path userHome) {
        Path absolute = file.toAbsolutePath().normalize();
        try {
            String text = Files.readString(absolute, StandardCharsets.UTF_8);
            ObjectMapper mapper = mapper(absolute.getParent(), userHome);
            try (JsonParser parser = mapper.createParser(text)) {
                Optional<String> unknown = ConfigKeys.firstUnknownKey(parser, rootType, absolute, scalarRecords,
                        PluginBlocksDeserializer.sections(PluginRegistry.installed(), sections),
                        PluginChoiceDeserializer.choices(PluginRegistry.installed(), choices));
                if (unknown.isPresent()) {
                    throw failure.apply(unknown.get(), null);
                }
            }
            R root = mapper.readValue(text, rootType);
            return root == null ? empty : root;
        } catch (MismatchedInputException e) {
            if (String.valueOf(e.getOriginalMessage()).startsWith("No content to map")) {
                return empty;
            }
            throw failure.apply(ConfigErrors.describe(absolute, e), e);
        } catch (JsonProcessingException e) {
            throw failure.apply(ConfigErrors.describe(absolute, e), e);
        } catch (NoSuchFileException e) {
            throw failure.apply("configuration file " + absolute + " does not exist", null);
        } catch (IOException e) {
            throw failure.apply("cannot read configuration file " + absolute + ": " + dev.sigil.core.Printable.reason(e), e);
        }
    }

    /** The mapper that binds this format; relative paths resolve against {@code baseDir}. */
    public ObjectMapper mapper(Path baseDir, Path userHome) {
        SimpleModule module = new SimpleModule("sigil-config-" + rootType.getSimpleName());
        module.addDeserializer(Duration.class, ConfigValues.scalar(Durations::parse));
        module.addDeserializer(TrustDomain.class, ConfigValues.scalar(TrustDomain::parse));
        module.addDeserializer(Path.class, ConfigValues.scalar(text -> path(text, baseDir, userHome)));
        module.addDeserializer(PluginBlocks.class, new PluginBlocksDeserializer(PluginRegistry.installed(), sections));
        module.addDeserializer(PluginChoice.class, new PluginChoiceDeserializer(PluginRegistry.installed(), choices));
        values.accept(module);
        return JsonMapper.builder(YAMLFactory.builder().build())
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .addModule(module)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .build();
    }

    /** The mapper for values that are not read from a file (a plugin's default settings). */
    public ObjectMapper mapper() {
        return mapper(Path.of("/"), Path.of("/"));
    }

    /** {@code text} as a path: {@code ~} and {@code ~/...} under {@code userHome}, relative ones under {@code baseDir}. */
    public static Path path(String text, Path baseDir, Path userHome) {
        if (text.isBlank()) {
            throw new IllegalArgumentException("path is empty");
        }
        Path path = text.equals("~") ? userHome : text.startsWith("~/") ? userHome.resolve(text.substring(2)) : Path.of(text);
        return baseDir.resolve(path).toAbsolutePath().normalize();
    }
}
