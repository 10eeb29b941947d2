package dev.nemotron4j.loader.gguf;

import dev.nemotron4j.loader.io.CountingOutputStream;
import dev.nemotron4j.loader.tensor.Tensor;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF v3 file, streaming each tensor's bytes from its source. Metadata values are typed from their Java
 * type the way llama.cpp expects them: Integer → UINT32, Long → UINT64, Float/Double → FLOAT32, Boolean → BOOL,
 * String → STRING, List&lt;String&gt; → STRING array, float[] → FLOAT32 array, int[] → INT32 array. Tensors are laid out
 * contiguously in the order given, each padded to the alignment.
 */
public final class GgufWriter {
    public static final int ALIGNMENT = 32;

    /** Writes exactly the tensor's bytes (C order, PyTorch shape). */
    @FunctionalInterface
    public interface Source {
        void writeTo(OutputStream out) throws IOException;
    }

    /** {@code shape} is PyTorch-style (outermost first); it is stored reversed, as ggml's ne[]. */
    public record Entry(String name, int ggmlType, long[] shape, long bytes, Source source) {
    }

    private GgufWriter() {
    }

    /** Told the bytes of tensor data written so far and how many the file will hold in all, as the data is written. */
    @FunctionalInterface
    public interface Progress {
        void written(long bytes, long total);
    }

    public static void write(Path file, Map<String, Object> metadata, List<Entry> tensors) throws IOException {
        write(file, metadata, tensors, null);
    }

    /**
     * As {@link #write(Path, Map, List)}, telling {@code progress} (if not null) of the tensor data as it is written,
     * within each tensor too (a big model's embedding alone is gigabytes), never past a tensor's end.
     */
    public static void write(Path file, Map<String, Object> metadata, List<Entry> tensors, Progress progress) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".partial");
        try (OutputStream raw = Files.newOutputStream(tmp); CountingOutputStream out = new CountingOutputStream(new BufferedOutputStream(raw, 1 << 20))) {
            u32(out, GgufFile.MAGIC);
            u32(out, 3);
            u64(out, tensors.size());
            u64(out, metadata.size());
            for (Map.Entry<String, Object> e : metadata.entrySet()) {
                string(out, e.getKey());
                value(out, e.getKey(), e.getValue());
            }
            long offset = 0;
            for (Entry t : tensors) {
                string(out, t.name);
                u32(out, t.shape.length);
                for (int d = t.shape.length - 1; d >= 0; d--) u64(out, t.shape[d]);
                u32(out, t.ggmlType);
                u64(out, offset);
                offset += pad(t.bytes);
            }
            zeros(out, pad(out.count()) - out.count());
            long total = tensors.stream().mapToLong(Entry::bytes).sum(), done = 0;
            for (Entry t : tensors) {
                long before = out.count(), base = done, end = done + t.bytes;
                t.source.writeTo(progress == null ? out
                        : new CountingOutputStream(out, n -> progress.written(Math.min(end, base + n), total)));
                long wrote = out.count() - before;
                if (wrote != t.bytes) throw new IOException("tensor '" + t.name + "' wrote " + wrote + " bytes, expected " + t.bytes);
                zeros(out, pad(wrote) - wrote);
                done = end;
                if (progress != null) progress.written(done, total);
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }

    private static long pad(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    private static void value(OutputStream out, String key, Object v) throws IOException {
        switch (v) {
            case Integer i -> {
                u32(out, 4);
                u32(out, i);
            }
            case Long l -> {
                u32(out, 10);
                u64(out, l);
            }
            case Float f -> {
                u32(out, 6);
                u32(out, Float.floatToIntBits(f));
            }
            case Double d -> {
                u32(out, 6);
                u32(out, Float.floatToIntBits((float) (double) d));
            }
            case Boolean b -> {
                u32(out, 7);
                out.write(b ? 1 : 0);
            }
            case String s -> {
                u32(out, 8);
                string(out, s);
            }
            case float[] a -> {
                u32(out, 9);
                u32(out, 6);
                u64(out, a.length);
                ByteBuffer buf = ByteBuffer.allocate(4 * a.length).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : a) buf.putFloat(f);
                out.write(buf.array());
            }
            case int[] a -> {
                u32(out, 9);
                u32(out, 5);
                u64(out, a.length);
                ByteBuffer buf = ByteBuffer.allocate(4 * a.length).order(ByteOrder.LITTLE_ENDIAN);
                for (int i : a) buf.putInt(i);
                out.write(buf.array());
            }
            case List<?> l -> {
                u32(out, 9);
                u32(out, 8);
                u64(out, l.size());
                for (Object o : l) string(out, (String) o);
            }
            default -> throw new IllegalArgumentException("metadata '" + key + "' has no GGUF type: " + v.getClass());
        }
    }

    private static void string(OutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(out, b.length);
        out.write(b);
    }

    private static void u32(OutputStream out, int v) throws IOException {
        out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
    }

    private static void u64(OutputStream out, long v) throws IOException {
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    private static void zeros(OutputStream out, long n) throws IOException {
        for (long i = 0; i < n; i++) out.write(0);
    }

    /** Bytes a tensor of {@code shape} takes in {@code type}. */
    public static long bytes(dev.nemotron4j.loader.tensor.DType type, long[] shape) {
        return type.bytesFor(Tensor.numel(shape));
    }

}
