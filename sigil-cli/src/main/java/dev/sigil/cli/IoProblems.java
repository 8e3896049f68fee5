package dev.sigil.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/** A file system failure in words (the file and what is wrong), never the exception's class name or a bare path. */
final class IoProblems {
    private IoProblems() {
    }

    static String describe(IOException e) {
        return switch (e) {
            case FileAlreadyExistsException exists -> exists.getFile() + " exists and is not a directory";
            case NoSuchFileException missing -> missing.getFile() + " does not exist";
            case AccessDeniedException denied -> "permission denied on " + denied.getFile();
            case NotDirectoryException notDir -> notDir.getFile() + " is not a directory";
            case DirectoryNotEmptyException notEmpty -> notEmpty.getFile() + " is a directory that is not empty";
            case FileSystemException other -> (other.getFile() == null ? "" : other.getFile() + ": ")
                    + (other.getReason() == null ? "file system error" : other.getReason());
            default -> e.getMessage() == null ? "input/output error" : e.getMessage();
        };
    }

    /** The I/O failure behind {@code failure}, when there is one. */
    static java.util.Optional<IOException> cause(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof IOException io) {
                return java.util.Optional.of(io);
            }
            if (t instanceof UncheckedIOException unchecked) {
                return java.util.Optional.of(unchecked.getCause());
            }
        }
        return java.util.Optional.empty();
    }
}
