package dev.nemotron4j.tools.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * What the writing commands ({@code quantize}, {@code random-model}, {@code convert}) check before they start, and
 * what they clean up when stopped half-way: an {@code --out} whose folder does not exist is refused up front (not
 * after "writing…", naming a temporary file), an existing model is never written over, and Ctrl-C does not leave a
 * partial file of gigabytes behind.
 */
final class OutputPaths {
    private OutputPaths() {
    }

    /** The folder {@code out} goes in must exist: named by the user's path, before any work starts. */
    static void requireParentFolder(Path out) {
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new UserException("--out " + out + ": the folder " + parent + " does not exist");
        }
        if (parent != null && !canCreateFileIn(parent)) {
            throw new UserException("--out " + out + ": the folder " + parent + " cannot be written to");
        }
    }

    /**
     * Whether a file can be made in {@code folder}, found by making (and deleting) an empty one: the permission bits
     * ({@link Files#isWritable}) say yes to root for {@code /proc} or a read-only mount, where the real write would
     * fail only after the model was read.
     */
    static boolean canCreateFileIn(Path folder) {
        if (!Files.isWritable(folder)) return false;
        try {
            Files.delete(Files.createTempFile(folder, ".nemotron4j-", ".probe"));
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /** {@code out} must be absent or an empty folder (a Hugging Face folder is written into it). */
    static void requireNewFolder(Path out) throws IOException {
        if (Files.isDirectory(out)) {
            try (Stream<Path> s = Files.list(out)) {
                if (s.findAny().isPresent()) throw new UserException(out + " is not empty; choose a new --out folder");
            }
        } else if (Files.exists(out)) {
            throw new UserException(out + " exists and is not a folder");
        }
    }

    /**
     * Deletes {@code path} (a file, or a folder and all in it) if the JVM exits (Ctrl-C, a kill) before
     * {@link Cleanup#close} is called on the returned handle, i.e. before the work finished or failed cleanly.
     */
    static Cleanup deleteIfInterrupted(Path path) {
        Thread hook = new Thread(() -> deleteTree(path), "nemotron4j-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        return () -> {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
        };
    }

    /** Removes everything inside the folder {@code dir}, leaving it empty; quietly does what it can. */
    static void deleteContents(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) deleteTree(f);
        } catch (IOException | RuntimeException e) {
            // best effort
        }
    }

    /** Removes a file or a folder tree; quietly does what it can. */
    static void deleteTree(Path path) {
        if (!Files.exists(path)) return;
        try (Stream<Path> files = Files.walk(path)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
        } catch (IOException | RuntimeException e) {
            // best effort: nothing more to do at exit
        }
    }

    interface Cleanup extends AutoCloseable {
        @Override
        void close();
    }
}
