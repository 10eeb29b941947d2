package dev.nemotron4j.loader.nemo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.tensor.DType;
import dev.nemotron4j.loader.tensor.Tensor;
import dev.nemotron4j.loader.tensor.TensorBlock;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A Megatron zarr distributed checkpoint ({@code model_weights/}, the Nemotron-4-340B layout): one folder per
 * global tensor key with a Zarr v2 {@code .zarray} and uncompressed C-order chunk files, each mapped in place
 * as one block of the tensor. Layer-stacked keys keep their leading layer axis here.
 */
public final class ZarrCheckpoint {
    private ZarrCheckpoint() {
    }

    public static Map<String, Tensor> read(NemoContainer c, String dir) {
        TreeSet<String> keys = new TreeSet<>();
        for (String f : c.list(dir)) {
            if (f.endsWith("/.zarray")) keys.add(f.substring(dir.length() + 1, f.length() - "/.zarray".length()));
        }
        if (keys.isEmpty()) throw new CheckpointException(c.origin() + ": " + dir + "/ holds no zarr arrays (.zarray)");
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String key : keys) out.put(key, array(c, dir + "/" + key, key));
        return out;
    }

    private static Tensor array(NemoContainer c, String path, String key) {
        String where = c.origin() + ": " + path;
        JsonNode meta;
        try {
            MemorySegment m = c.file(path + "/.zarray").orElseThrow();
            meta = new ObjectMapper().readTree(m.toArray(ValueLayout.JAVA_BYTE));
        } catch (IOException e) {
            throw new CheckpointException(where + "/.zarray is not valid JSON: " + e.getMessage(), e);
        }
        if (meta.path("zarr_format").asInt(2) != 2) {
            throw new CheckpointException(where + ": zarr_format " + meta.get("zarr_format") + " is not supported (expected 2)");
        }
        if (!meta.path("compressor").isNull() && !meta.path("compressor").isMissingNode()) {
            throw new CheckpointException(where + ": compressed zarr chunks (" + meta.get("compressor")
                    + ") cannot be mapped in place; Megatron writes compressor null");
        }
        if (meta.path("filters").isArray() && !meta.path("filters").isEmpty()) {
            throw new CheckpointException(where + ": zarr filters are not supported");
        }
        if (!"C".equals(meta.path("order").asText("C"))) {
            throw new CheckpointException(where + ": zarr order " + meta.get("order") + " is not supported (expected C)");
        }
        DType dtype = dtype(meta.path("dtype").asText(), where);
        long[] shape = longs(meta.get("shape"), where, "shape");
        long[] chunks = longs(meta.get("chunks"), where, "chunks");
        if (chunks.length != shape.length) throw new CheckpointException(where + ": chunks and shape differ in rank");
        String sep = meta.path("dimension_separator").asText(".");
        long[] grid = new long[shape.length];
        for (int d = 0; d < shape.length; d++) {
            if (chunks[d] <= 0 || shape[d] % chunks[d] != 0) {
                throw new CheckpointException(where + ": chunk shape " + Arrays.toString(chunks) + " does not divide shape "
                        + Arrays.toString(shape) + "; partial edge chunks are not supported");
            }
            grid[d] = shape[d] / chunks[d];
        }
        long chunkBytes = Tensor.numel(chunks) * dtype.byteSize();
        List<TensorBlock> blocks = new ArrayList<>();
        long count = Tensor.numel(grid);
        long[] idx = new long[shape.length];
        for (long i = 0; i < count; i++) {
            StringBuilder name = new StringBuilder();
            long[] start = new long[shape.length];
            for (int d = 0; d < shape.length; d++) {
                if (d > 0) name.append(sep);
                name.append(idx[d]);
                start[d] = idx[d] * chunks[d];
            }
            if (shape.length == 0) name.append('0');
            String file = path + "/" + name;
            MemorySegment data = c.file(file).orElseThrow(() -> new CheckpointException(c.origin() + ": zarr chunk "
                    + file + " of tensor '" + key + "' is missing"));
            if (data.byteSize() != chunkBytes) {
                throw new CheckpointException(c.origin() + ": zarr chunk " + file + " of tensor '" + key + "' holds "
                        + data.byteSize() + " bytes, expected " + chunkBytes + " (chunk " + Arrays.toString(chunks) + " of " + dtype + ")");
            }
            blocks.add(new TensorBlock(start, chunks, data));
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++idx[d] < grid[d]) break;
                idx[d] = 0;
            }
        }
        return new Tensor(key, dtype, shape, blocks, c.origin() + "/" + path);
    }

    static DType dtype(String s, String where) {
        return switch (s) {
            case "bfloat16", "<V2" -> DType.BF16; // Megatron rewrites its raw <V2 to "bfloat16"
            case "<f4" -> DType.F32;
            case "<f2" -> DType.F16;
            case "<f8" -> DType.F64;
            default -> throw new CheckpointException(where + ": zarr dtype '" + s + "' is not supported (bfloat16, <f4, <f2)");
        };
    }

    private static long[] longs(JsonNode n, String where, String field) {
        if (n == null || !n.isArray()) throw new CheckpointException(where + "/.zarray has no \"" + field + "\" array");
        long[] out = new long[n.size()];
        for (int i = 0; i < out.length; i++) out[i] = n.get(i).asLong();
        return out;
    }
}
