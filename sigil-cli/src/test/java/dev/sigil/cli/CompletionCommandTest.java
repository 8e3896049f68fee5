package dev.sigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The completion script, sourced in a real bash and asked what completes a partial command line. */
@Timeout(30)
class CompletionCommandTest {
    @TempDir
    Path home;

    @Test
    void bashCompletesATopLevelCommand() throws Exception {
        assertThat(complete("sigil", "ent")).contains("entry");
    }

    @Test
    void bashCompletesASubcommandAndItsOptions() throws Exception {
        assertThat(complete("sigil", "entry", "cre")).containsExactly("create");
        assertThat(complete("sigil", "bundle", "show", "--for")).containsExactly("--format");
        assertThat(complete("sigil", "completion", "")).contains("bash", "zsh");
    }

    @Test
    void zshGetsTheSameScriptWhichEnablesBashCompatibility() {
        CliHarness.Result zsh = cli().run("completion", "zsh");
        assertThat(zsh.exitCode()).isZero();
        assertThat(zsh.out()).contains("bashcompinit").isEqualTo(cli().run("completion", "bash").out());
    }

    @Test
    void anUnknownShellIsAUsageErrorNamingTheValidOnes() {
        CliHarness.Result result = cli().run("completion", "fish");
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).contains("fish").contains("bash, zsh");
    }

    /** The words bash would offer for the last of {@code words} (the word under the cursor). */
    private List<String> complete(String... words) throws Exception {
        CliHarness.Result script = cli().run("completion", "bash");
        assertThat(script.exitCode()).isZero();
        Path file = home.resolve("sigil-completion.bash");
        Files.writeString(file, script.out());
        String line = String.join(" ", words);
        StringBuilder array = new StringBuilder();
        for (String word : words) {
            array.append('\'').append(word).append("' ");
        }
        // compopt only works inside a completion bash itself started; outside one it is a no-op here
        String program = "source '" + file + "'\ncompopt() { :; }\n"
                + "COMP_WORDS=(" + array + ")\n"
                + "COMP_CWORD=" + (words.length - 1) + "\n"
                + "COMP_LINE='" + line + "'\n"
                + "COMP_POINT=" + line.length() + "\n"
                + "_complete_sigil\n"
                + "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
        Process bash = new ProcessBuilder("bash", "--norc", "--noprofile", "-c", program).redirectErrorStream(true).start();
        String out = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(bash.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(bash.exitValue()).as(out).isZero();
        return out.lines().map(String::strip).filter(word -> !word.isEmpty()).toList();
    }

    private CliHarness cli() {
        return new CliHarness(Map.of(), home);
    }
}
