package dev.nemotron4j.loader.nemo;

import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.io.MappedFiles;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * The files of a {@code .nemo} checkpoint, whether it is a tar (mapped once, members sliced in place), a
 * gzip-compressed legacy tar (inflated once to a temporary file that is unlinked after mapping), or an
 * already extracted directory (files mapped as asked for). Names are archive-relative with '/' separators.
 */
public abstract sealed class NemoContainer permits NemoContainer.Tar, NemoContainer.Directory {

    public abstract String origin();

    /** The bytes of a member, if it exists. */
    public abstract Optional<MemorySegment> file(String name);

    /** Names of every file under {@code dir/} (recursively). */
    public abstract List<String> list(String dir);

    public abstract String kind();

    public static NemoContainer open(Path path, Arena arena) {
        if (Files.isDirectory(path)) return new Directory(path, arena);
        MemorySegment file = map(path, arena);
        if (file.byteSize() >= 2 && (file.get(ValueLayout.JAVA_BYTE, 0) & 0xFF) == 0x1F
                && (file.get(ValueLayout.JAVA_BYTE, 1) & 0xFF) == 0x8B) {
            return new Tar(TarArchive.read(inflate(path, arena), path.toString()), "gzip-compressed .nemo tar");
        }
        return new Tar(TarArchive.read(file, path.toString()), ".nemo tar");
    }

    private static MemorySegment map(Path path, Arena arena) {
        return MappedFiles.map(path, arena);
    }

    /** Old NeMo wrote "w:gz" tars. Inflate once to a temporary file, map it, and unlink it at once. */
    private static MemorySegment inflate(Path path, Arena arena) {
        Path tmp = null;
        try {
            tmp = Files.createTempFile("nemotron4j-", ".nemo.tar");
            try (InputStream in = new GZIPInputStream(Files.newInputStream(path), 1 << 20);
                 OutputStream out = Files.newOutputStream(tmp)) {
                in.transferTo(out);
            }
            return map(tmp, arena);
        } catch (IOException e) {
            throw new CheckpointException(path + ": corrupt gzip-compressed .nemo: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp); // the mapping stays valid; the disk space is freed when it is unmapped
                } catch (IOException ignored) {
                    tmp.toFile().deleteOnExit();
                }
            }
        }
    }

    static final class Tar extends NemoContainer {
        private final TarArchive tar;
        private final String kind;

        Tar(TarArchive tar, String kind) {
            this.tar = tar;
            this.kind = kind;
        }

        @Override
        public String origin() {
            return tar.origin();
        }

        @Override
        public Optional<MemorySegment> file(String name) {
            return Optional.ofNullable(tar.members().get(TarArchive.normalise(name, tar.origin())));
        }

        @Override
        public List<String> list(String dir) {
            String d = TarArchive.normalise(dir, tar.origin());
            String prefix = d.isEmpty() ? "" : d + "/";
            return tar.members().keySet().stream().filter(n -> n.startsWith(prefix)).toList();
        }

        @Override
        public String kind() {
            return kind;
        }
    }

    static final class Directory extends NemoContainer {
        private final Path root;
        private final Arena arena;

        Directory(Path root, Arena arena) {
            this.root = root;
            this.arena = arena;
        }

        @Override
        public String origin() {
            return root.toString();
        }

        private Path resolve(String name) {
            String n = TarArchive.normalise(name, root.toString());
            return root.resolve(n);
        }

        @Override
        public Optional<MemorySegment> file(String name) {
            Path p = resolve(name);
            return Files.isRegularFile(p) ? Optional.of(map(p, arena)) : Optional.empty();
        }

        @Override
        public List<String> list(String dir) {
            Path d = resolve(dir);
            if (!Files.isDirectory(d)) return List.of();
            try (Stream<Path> s = Files.walk(d)) {
                TreeSet<String> out = new TreeSet<>();
                s.filter(Files::isRegularFile).forEach(p -> out.add(root.relativize(p).toString().replace('\\', '/')));
                return new ArrayList<>(out);
            } catch (IOException e) {
                throw new CheckpointException(d + ": cannot list: " + e.getMessage(), e);
            }
        }

        @Override
        public String kind() {
            return "extracted .nemo directory";
        }
    }
}
