package dev.sigil.server.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Copies committed audit records to a JSON-lines file ({@code audit.jsonl_file}), one object per
 * line: {@code seq, time, actor, action, subject, outcome, details} (an object), {@code prev_hash,
 * hash}. It reads the records back from the datastore, so it only ever sees committed records, in
 * {@code seq} order, whichever path appended them. The datastore stays the record of truth: the file
 * is a convenience for log shippers; a write failure is the caller's to log, not a reason to refuse
 * work, and the next {@link #exportNew()} resumes after the last line in the file.
 */
public final class AuditJsonlExporter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PAGE = 1000;

    private final AuditTrail trail;
    private final Path file;
    private long lastSeq;

    private AuditJsonlExporter(AuditTrail trail, Path file, long lastSeq) {
        this.trail = trail;
        this.file = file;
        this.lastSeq = lastSeq;
    }

    /** Resumes after the last record already in {@code file} (none when it does not exist). */
    public static AuditJsonlExporter create(AuditTrail trail, Path file) {
        try {
            return new AuditJsonlExporter(trail, file, lastSeqIn(file));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the audit jsonl file " + file + ": " + e.getMessage(), e);
        }
    }

    /** Appends every record committed since the last export; returns how many. */
    public synchronized int exportNew() throws IOException {
        int written = 0;
        while (true) {
            List<AuditRecord> page = trail.query(AuditQuery.all().after(lastSeq).limit(PAGE));
            if (page.isEmpty()) {
                return written;
            }
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND)) {
                for (AuditRecord record : page) {
                    out.write(line(record));
                    out.write('\n');
                }
            }
            lastSeq = page.getLast().seq();
            written += page.size();
        }
    }

    static String line(AuditRecord r) throws IOException {
        ObjectNode node = JSON.createObjectNode();
        node.put("seq", r.seq());
        node.put("time", r.time().toString());
        node.put("actor", r.actor());
        node.put("action", r.action());
        node.put("subject", r.subject());
        node.put("outcome", r.outcome().wireName());
        node.set("details", JSON.readTree(r.details()));
        node.put("prev_hash", r.prevHash());
        node.put("hash", r.hash());
        return JSON.writeValueAsString(node);
    }

    private static long lastSeqIn(Path file) throws IOException {
        if (!Files.exists(file)) {
            return 0;
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            long end = raf.length();
            // Skip a trailing newline, then find the start of the last line.
            long pos = end - 1;
            while (pos >= 0 && readByte(raf, pos) == '\n') {
                pos--;
            }
            if (pos < 0) {
                return 0;
            }
            long lineEnd = pos + 1;
            while (pos >= 0 && readByte(raf, pos) != '\n') {
                pos--;
            }
            byte[] last = new byte[(int) (lineEnd - pos - 1)];
            raf.seek(pos + 1);
            raf.readFully(last);
            try {
                return JSON.readTree(last).path("seq").asLong(0);
            } catch (IOException e) {
                throw new IOException("its last line is not a json audit record (" + e.getMessage() + ")", e);
            }
        }
    }

    private static int readByte(RandomAccessFile raf, long pos) throws IOException {
        raf.seek(pos);
        return raf.read();
    }
}
