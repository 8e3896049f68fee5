package dev.sigil.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where the PostgreSQL server programs are, and how to run them. PostgreSQL refuses to run as root,
 * so when this JVM is root (as in CI containers) every server program is started through
 * {@code setpriv} (or {@code runuser}) as the unprivileged {@code nobody} user.
 */
record PostgresBinaries(Path binDir, List<String> runAsPrefix, Optional<RunAs> runAs) {
    /** System property, then environment variable, naming a directory that holds initdb and postgres. */
    static final String PROPERTY = "sigil.postgres.bin";
    static final String ENVIRONMENT = "SIGIL_POSTGRES_BIN";

    /** The unprivileged account the server runs as when this JVM is root. */
    record RunAs(String user, String group) {}

    PostgresBinaries {
        runAsPrefix = List.copyOf(runAsPrefix);
    }

    Path program(String name) {
        return binDir.resolve(name);
    }

    /** The command line that runs {@code program} with {@code args}, as the unprivileged user if needed. */
    List<String> command(String program, String... args) {
        List<String> command = new ArrayList<>(runAsPrefix);
        command.add(program(program).toString());
        command.addAll(List.of(args));
        return command;
    }

    static PostgresBinaries locate() {
        Path bin = findBinDir();
        if (!isRoot()) {
            return new PostgresBinaries(bin, List.of(), Optional.empty());
        }
        String group = groupExists("nogroup") ? "nogroup" : "nobody";
        RunAs runAs = new RunAs("nobody", group);
        Optional<Path> setpriv = onPath("setpriv");
        if (setpriv.isPresent()) {
            return new PostgresBinaries(bin, List.of(setpriv.get().toString(),
                    "--reuid=" + runAs.user(), "--regid=" + runAs.group(), "--clear-groups"), Optional.of(runAs));
        }
        Optional<Path> runuser = onPath("runuser");
        if (runuser.isPresent()) {
            return new PostgresBinaries(bin, List.of(runuser.get().toString(),
                    "-u", runAs.user(), "-g", runAs.group(), "--"), Optional.of(runAs));
        }
        throw new IllegalStateException("this jvm runs as root and postgresql refuses to run as root, but neither "
                + "setpriv nor runuser is installed to drop privileges; install util-linux (apt-get install util-linux)");
    }

    private static Path findBinDir() {
        String configured = System.getProperty(PROPERTY, System.getenv(ENVIRONMENT));
        if (configured != null && !configured.isBlank()) {
            Path dir = Path.of(configured);
            if (!hasServerPrograms(dir)) {
                throw new IllegalStateException(PROPERTY + "/" + ENVIRONMENT + " is '" + configured
                        + "', which does not hold the programs initdb and postgres");
            }
            return dir;
        }
        List<Path> candidates = new ArrayList<>();
        for (String root : List.of("/usr/lib/postgresql", "/usr/local/lib/postgresql")) {
            candidates.addAll(versionDirs(Path.of(root), "bin"));
        }
        candidates.addAll(versionDirs(Path.of("/usr"), "bin").stream()
                .filter(p -> p.getParent().getFileName().toString().startsWith("pgsql-")).toList());
        candidates.add(Path.of("/usr/local/pgsql/bin"));
        for (Path candidate : candidates) {
            if (hasServerPrograms(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("no postgresql server binaries found (looked for initdb and postgres in "
                + "/usr/lib/postgresql/<version>/bin, /usr/pgsql-<version>/bin and /usr/local/pgsql/bin); install them "
                + "(apt-get install postgresql) or set " + ENVIRONMENT + " to the directory that holds them");
    }

    /** {@code <root>/<version>/<sub>} directories, highest version first. */
    private static List<Path> versionDirs(Path root, String sub) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> children = Files.list(root)) {
            return children.sorted(Comparator.comparing(PostgresBinaries::versionOf).reversed())
                    .map(child -> child.resolve(sub))
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static int versionOf(Path dir) {
        String digits = dir.getFileName().toString().replaceAll("\\D", "");
        try {
            return digits.isEmpty() ? -1 : Integer.parseInt(digits.substring(0, Math.min(digits.length(), 6)));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static boolean hasServerPrograms(Path dir) {
        return Files.isExecutable(dir.resolve("initdb")) && Files.isExecutable(dir.resolve("postgres"));
    }

    static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    private static boolean groupExists(String group) {
        try (Stream<String> lines = Files.lines(Path.of("/etc/group"))) {
            return lines.anyMatch(line -> line.startsWith(group + ":"));
        } catch (IOException e) {
            return false;
        }
    }

    static Optional<Path> onPath(String program) {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(":")));
        }
        dirs.addAll(List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin"));
        return dirs.stream().filter(d -> !d.isEmpty()).map(d -> Path.of(d, program)).filter(Files::isExecutable).findFirst();
    }
}
