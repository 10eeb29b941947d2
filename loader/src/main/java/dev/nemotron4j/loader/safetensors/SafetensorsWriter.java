package dev.nemotron4j.loader.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nemotron4j.loader.io.CountingOutputStream;
import dev.nemotron4j.loader.tensor.DType;
import dev.nemotron4j.loader.tensor.Tensor;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Writes a safetensors file tensor by tensor, streaming: each tensor's bytes come from its {@link Source}
 * when its turn comes, so a file larger than memory can be written.
 */
public final class SafetensorsWriter {

    /** Writes exactly {@code numel × dtype size} little-endian bytes of one tensor. */
    @FunctionalInterface
    public interface Source {
        void writeTo(OutputStream out) throws IOException;
    }

    public record Entry(String name, DType dtype, long[] shape, Source source) {
        public long byteSize() {
            return dtype.bytesFor(Tensor.numel(shape));
        }
    }

    private SafetensorsWriter() {
    }

    public static void write(Path file, List<Entry> entries, Map<String, String> metadata) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Entry e : entries) {
            ObjectNode t = header.putObject(e.name());
            t.put("dtype", e.dtype().name());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.shape()) shape.add(d);
            ArrayNode off = t.putArray("data_offsets");
            off.add(offset);
            offset += e.byteSize();
            off.add(offset);
        }
        byte[] text = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (text.length + 7) / 8 * 8; // keep the data section 8-byte aligned, like the reference writer
        byte[] headerBytes = Arrays.copyOf(text, padded);
        Arrays.fill(headerBytes, text.length, padded, (byte) ' ');
        Path tmp = file.resolveSibling(file.getFileName() + ".partial");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
            out.write(headerBytes);
            for (Entry e : entries) {
                CountingOutputStream counted = new CountingOutputStream(out);
                e.source().writeTo(counted);
                if (counted.count() != e.byteSize()) {
                    throw new IOException("tensor '" + e.name() + "' wrote " + counted.count() + " bytes, expected " + e.byteSize());
                }
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** Source that copies an existing tensor (any block layout) in C order, in its own dtype. */
    public static Source copyOf(Tensor t) {
        return out -> TensorBytes.writeCOrder(t, out);
    }

}
