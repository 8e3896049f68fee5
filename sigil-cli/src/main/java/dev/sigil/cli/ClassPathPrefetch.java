package dev.sigil.cli;

import java.io.IOException;
import java.net.URL;
import java.util.Enumeration;
import java.util.Set;

/**
 * Opens every jar of the class path on a second thread while the main thread builds the command line.
 * A short command loads almost all of its classes from the class-data sharing archive without opening
 * a jar, but the first service look-up it makes (the JDK's selector provider for a socket, the logging
 * backend gRPC's first logger asks for) reads {@code META-INF/services} from every jar, opening the
 * ninety-odd jars one after another on the main thread: about 70 ms of a 0.6 s admin or Workload API
 * command. Opened here first, the look-up finds them open. Nothing is loaded or initialised but the
 * JDK's own jar reading, so the thread cannot change what the command does, only when the jars are
 * read; it is a daemon and never delays the exit.
 */
final class ClassPathPrefetch {
    /** Options after which a command only prints (help, version) and opens no socket. */
    private static final Set<String> PRINT_ONLY = Set.of("-h", "--help", "-V", "--version");

    private ClassPathPrefetch() {
    }

    /** Starts the prefetch when {@link #worthwhile} says so. */
    static void startFor(String[] args) {
        if (!worthwhile(args)) {
            return;
        }
        Thread thread = new Thread(ClassPathPrefetch::openJars, "sigil-classpath-prefetch");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Whether a command line may go on to a service look-up: not when it only prints help, the version
     * or a completion script (those read no service and would only pay the prefetch's CPU).
     */
    static boolean worthwhile(String[] args) {
        // (a plain loop: a stream here would initialise the stream library on the main thread)
        if (args.length == 0 || "completion".equals(args[0])) {
            return false;
        }
        for (String arg : args) {
            if (PRINT_ONLY.contains(arg)) {
                return false;
            }
        }
        return true;
    }

    private static void openJars() {
        try {
            // a name no jar holds: the class loader opens each jar to look for it
            Enumeration<URL> none = ClassLoader.getSystemClassLoader().getResources("META-INF/services/dev.sigil.cli.ClassPathPrefetch");
            while (none.hasMoreElements()) {
                none.nextElement();
            }
        } catch (IOException | RuntimeException e) {
            // only an optimisation: the command opens what it needs itself
        }
    }
}
