package dev.nemotron4j.loader.io;

import dev.nemotron4j.loader.CheckpointException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Read-only memory mapping of whole files, with errors that name the file. */
public final class MappedFiles {
    private MappedFiles() {
    }

    /** Maps {@code path} into {@code arena}, which owns the mapping's lifetime (no 2 GB windows). */
    public static MemorySegment map(Path path, Arena arena) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot read: " + e.getMessage(), e);
        }
    }
}
