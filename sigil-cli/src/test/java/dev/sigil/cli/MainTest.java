package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
    @TempDir
    Path home;

    @Test
    void aCommandLineGetsOnlyTheCommandItNames() {
        assertThat(Main.commandsFor(new String[] {"--debug", "entry", "list"})).containsOnlyKeys("entry");
        assertThat(Main.commandsFor(new String[] {"server", "run", "--data-dir", "/tmp/x"})).containsOnlyKeys("server");
    }

    @Test
    void everyCommandIsListedUnderTheNameItsAnnotationGives() {
        Main.COMMANDS.forEach((name, type) ->
                assertThat(type.getAnnotation(picocli.CommandLine.Command.class).name()).as(type.getName()).isEqualTo(name));
    }

    @Test
    void aVersionRequestGetsNoCommand() {
        assertThat(Main.commandsFor(new String[] {"--version"})).isEmpty();
        assertThat(Main.commandsFor(new String[] {"-V", "--debug"})).isEmpty();
    }

    @Test
    void helpNoWordAndUnknownWordsGetEveryCommand() {
        assertThat(Main.commandsFor(new String[] {})).isEqualTo(Main.COMMANDS);
        assertThat(Main.commandsFor(new String[] {"--help"})).isEqualTo(Main.COMMANDS);
        assertThat(Main.commandsFor(new String[] {"--version", "--help"})).isEqualTo(Main.COMMANDS);
        assertThat(Main.commandsFor(new String[] {"enrty", "list"})).isEqualTo(Main.COMMANDS);
        assertThat(Main.COMMANDS).hasSize(22).containsKeys("server", "agent", "dev", "entry", "credential", "completion", "inventory", "report", "owner",
                "resource", "console", "federation");
    }

    @Test
    void onlyACommandThatMayUseASocketOpensTheClassPathAhead() {
        assertThat(ClassPathPrefetch.worthwhile(new String[] {"entry", "show"})).isTrue();
        assertThat(ClassPathPrefetch.worthwhile(new String[] {"agent", "api", "fetch", "x509"})).isTrue();
        assertThat(ClassPathPrefetch.worthwhile(new String[] {})).isFalse();
        assertThat(ClassPathPrefetch.worthwhile(new String[] {"--version"})).isFalse();
        assertThat(ClassPathPrefetch.worthwhile(new String[] {"entry", "show", "-h"})).isFalse();
        assertThat(ClassPathPrefetch.worthwhile(new String[] {"completion", "bash"})).isFalse();
    }

    @Test
    void versionIsPrintedWithoutAnyCommand() {
        CliHarness.Result result = new CliHarness(Map.of(), home).run("--version");
        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).startsWith("sigil ");
    }

    @Test
    void helpStillListsEveryCommand() {
        CliHarness.Result result = new CliHarness(Map.of(), home).run("--help");
        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).contains("server", "healthcheck", "agent", "dev", "x509", "credential");
    }

    @Test
    void aMistypedCommandIsStillAUsageError() {
        CliHarness.Result result = new CliHarness(Map.of(), home).run("enrty", "list");
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).contains("enrty");
    }
}
