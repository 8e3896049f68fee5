package dev.sigil.bench;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreConfig;
import dev.sigil.server.registration.BatchCreateResult;
import dev.sigil.server.registration.EntryDraft;
import dev.sigil.server.registration.EntryFilter;
import dev.sigil.server.registration.EntryFilter.MatchMode;
import dev.sigil.server.registration.EntryStore;
import dev.sigil.server.registration.PageRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import java.util.stream.Stream;

/**
 * Registration entries at scale on the embedded default: SQLite in a temporary directory with the
 * datastore's durable settings (WAL, fsync on every commit).
 *
 * <p>Entry {@code n} is {@code spiffe://example.org/svc/n} with selectors {@code unix:uid:n},
 * {@code k8s:ns:ns<n % 100>} and {@code k8s:sa:default}, the last one common to every entry. The
 * import is timed twice, each on a fresh database: as the admin API would send it (one
 * {@code createBatch} call per batch of {@code --batch} drafts) and as one call, which the store
 * commits in its own chunks. Lookups then run on the imported database; each kind is warmed up and
 * every query's result is checked.
 *
 * <p>Usage: {@code EntryScaleBench [--entries 100000] [--queries 1000] [--batch 500]}
 */
public final class EntryScaleBench {
    private static final SpiffeId NODE_A = SpiffeId.parse("spiffe://example.org/node/a");
    private static final SpiffeId NODE_B = SpiffeId.parse("spiffe://example.org/node/b");
    private static final Selector COMMON = Selector.of("k8s", "sa:default");
    private static final int NAMESPACES = 100;
    private static final int PAGE = 100;

    private EntryScaleBench() {}

    public static void main(String[] args) throws IOException {
        Options options = Options.parse(args, Set.of("--entries", "--queries", "--batch"));
        int entries = options.positiveInt("--entries", 100_000);
        int queries = options.positiveInt("--queries", 1_000);
        int batch = options.positiveInt("--batch", 500);
        List<EntryDraft> drafts = new ArrayList<>(entries);
        for (int n = 0; n < entries; n++) {
            drafts.add(EntryDraft.of(SpiffeId.parse("spiffe://example.org/svc/" + n), n % 2 == 0 ? NODE_A : NODE_B,
                    entrySelectors(n), "team-" + (n % NAMESPACES)));
        }
        try (TempDirectory directory = TempDirectory.create("sigil-entry-bench")) {
            System.out.printf("%,d entries on SQLite (durable defaults) in %s; %,d timed queries per lookup kind, page size %d%n%n",
                    entries, directory.path(), queries, PAGE);
            // warm the import path up on a throw-away database so neither timed import pays for JIT compilation
            List<EntryDraft> warmUp = drafts.subList(0, Math.min(drafts.size(), 5_000));
            importInBatches(directory.resolve("warm-up-batches.db"), warmUp, batch);
            importInBatches(directory.resolve("warm-up-one-call.db"), warmUp, warmUp.size());

            System.out.printf("%-46s %10s %12s%n", "import", "seconds", "entries/s");
            double batched = importInBatches(directory.resolve("batches.db"), drafts, batch);
            System.out.printf("%-46s %10.1f %,12.0f%n", "admin API: createBatch per " + batch + " drafts", batched, entries / batched);
            try (Datastore datastore = Datastore.open(DatastoreConfig.sqlite(directory.resolve("one-call.db")))) {
                EntryStore store = store(datastore);
                long start = System.nanoTime();
                checkCreated(store.createBatch(drafts, "bench"));
                double oneCall = seconds(start);
                System.out.printf("%-46s %10.1f %,12.0f%n", "one createBatch call (store's own chunks)", oneCall, entries / oneCall);
                System.out.printf("%ndatabase size (file and WAL): %,d MB%n%n", sizeMegabytes(directory.path(), "one-call.db"));
                lookups(store, entries, queries);
            }
        }
    }

    private static List<Selector> entrySelectors(int n) {
        return List.of(Selector.of("unix", "uid:" + n), Selector.of("k8s", "ns:ns" + (n % NAMESPACES)), COMMON);
    }

    private static long sizeMegabytes(Path directory, String database) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            long bytes = 0;
            for (Path file : files.filter(f -> f.getFileName().toString().startsWith(database)).toList()) {
                bytes += Files.size(file);
            }
            return bytes >> 20;
        }
    }

    private static EntryStore store(Datastore datastore) {
        Clock clock = Clock.systemUTC();
        return EntryStore.create(datastore, AuditTrail.create(datastore, clock), clock);
    }

    private static double importInBatches(Path file, List<EntryDraft> drafts, int batch) {
        try (Datastore datastore = Datastore.open(DatastoreConfig.sqlite(file))) {
            EntryStore store = store(datastore);
            long start = System.nanoTime();
            for (int from = 0; from < drafts.size(); from += batch) {
                checkCreated(store.createBatch(drafts.subList(from, Math.min(drafts.size(), from + batch)), "bench"));
            }
            return seconds(start);
        }
    }

    private static void checkCreated(List<BatchCreateResult> results) {
        for (BatchCreateResult result : results) {
            if (result instanceof BatchCreateResult.Failed failed) {
                throw new IllegalStateException("import failed: " + failed.error().getMessage(), failed.error());
            }
        }
    }

    /** One kind of lookup: the filter for entry {@code n} and how many entries it must return. */
    private record Lookup(String name, IntFunction<EntryFilter> filter, int expected) {}

    private static void lookups(EntryStore store, int entries, int queries) {
        int perNamespace = entries / NAMESPACES;
        List<Lookup> kinds = List.of(
                new Lookup("SUBSET  agent: uid, gid, ns, sa, pod-uid", n -> EntryFilter.all().withSelectors(MatchMode.SUBSET,
                        List.of(Selector.of("unix", "uid:" + n), Selector.of("unix", "gid:0"),
                                Selector.of("k8s", "ns:ns" + (n % NAMESPACES)), COMMON, Selector.of("k8s", "pod-uid:" + n))), 1),
                new Lookup("EXACT   uid, ns, sa", n -> EntryFilter.all().withSelectors(MatchMode.EXACT, entrySelectors(n)), 1),
                new Lookup("SUPERSET uid", n -> EntryFilter.all().withSelectors(MatchMode.SUPERSET,
                        List.of(Selector.of("unix", "uid:" + n))), 1),
                new Lookup("SUPERSET ns (first page)", n -> EntryFilter.all().withSelectors(MatchMode.SUPERSET,
                        List.of(Selector.of("k8s", "ns:ns" + (n % NAMESPACES)))), Math.min(PAGE, perNamespace)));
        System.out.printf("%-42s %8s %9s %9s %9s %9s%n", "lookup", "results", "mean ms", "p50 ms", "p99 ms", "max ms");
        SplittableRandom random = new SplittableRandom(42);
        for (Lookup kind : kinds) {
            for (int i = 0; i < Math.max(100, queries / 5); i++) {
                run(store, kind, random.nextInt(entries));
            }
            long[] nanos = new long[queries];
            for (int i = 0; i < queries; i++) {
                nanos[i] = run(store, kind, random.nextInt(entries));
            }
            Arrays.sort(nanos);
            System.out.printf("%-42s %8d %9.2f %9.2f %9.2f %9.2f%n", kind.name(), kind.expected(),
                    Arrays.stream(nanos).average().orElseThrow() / 1e6, percentile(nanos, 50) / 1e6,
                    percentile(nanos, 99) / 1e6, nanos[nanos.length - 1] / 1e6);
        }
    }

    private static long run(EntryStore store, Lookup kind, int n) {
        EntryFilter filter = kind.filter().apply(n);
        long start = System.nanoTime();
        int found = store.list(filter, PageRequest.first(PAGE)).items().size();
        long elapsed = System.nanoTime() - start;
        if (found != kind.expected()) {
            throw new IllegalStateException(kind.name() + " for entry " + n + " returned " + found + " entries, expected " + kind.expected());
        }
        return elapsed;
    }

    /** Nearest-rank percentile of sorted values. */
    static long percentile(long[] sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

}
