package dev.nemotron4j.loader.nemo;

import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.tensor.Tensor;
import dev.nemotron4j.loader.tensor.TensorBlock;
import dev.nemotron4j.loader.torch.SafePickle;
import dev.nemotron4j.loader.torch.TorchCheckpoint;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PyTorch DCP ("torch_dist") distributed checkpoints: {@code .metadata} (a pickle of {@code Metadata}, read by
 * the safe interpreter) lists each tensor's global shape and chunks; each chunk is a complete torch.save ZIP at
 * (offset, length) of a {@code __R_I.distcp} file, mapped in place and placed at its offsets as one block.
 */
final class TorchDistCheckpoint {
    private TorchDistCheckpoint() {
    }

    static Map<String, Tensor> read(NemoContainer c, String dir) {
        String origin = c.origin() + "/" + dir;
        MemorySegment metaBytes = c.file(dir + "/.metadata").orElseThrow(() ->
                new CheckpointException(origin + ": torch_dist checkpoint without a .metadata file"));
        Object meta = SafePickle.load(metaBytes, origin + "/.metadata");
        Map<?, ?> fields = state(meta, origin, "Metadata");
        Map<?, ?> tensorsMeta = asMap(fields.get("state_dict_metadata"), origin, "state_dict_metadata");
        Map<?, ?> storage = asMap(fields.get("storage_data"), origin, "storage_data");

        // (fqn, chunk offsets) → storage info
        Map<String, Map<?, ?>> where = new HashMap<>();
        for (Map.Entry<?, ?> e : storage.entrySet()) {
            Map<?, ?> idx = keyFields(e.getKey(), origin);
            where.put(idx.get("fqn") + "@" + Arrays.toString(longs(idx.get("offset"), origin)), state(e.getValue(), origin, "_StorageInfo"));
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : tensorsMeta.entrySet()) {
            String fqn = String.valueOf(e.getKey());
            if (!(e.getValue() instanceof SafePickle.Call call) || !call.callee.name().equals("TensorStorageMetadata")) {
                continue; // BytesStorageMetadata: pickled objects (_extra_state), not weights
            }
            Map<?, ?> tm = state(call, origin, "TensorStorageMetadata");
            long[] shape = longs(tm.get("size"), origin);
            List<TensorBlock> blocks = new ArrayList<>();
            dev.nemotron4j.loader.tensor.DType dtype = null;
            for (Object chunkObj : asList(tm.get("chunks"), origin)) {
                Map<?, ?> chunk = state(chunkObj, origin, "ChunkStorageMetadata");
                long[] offsets = longs(chunk.get("offsets"), origin);
                long[] sizes = longs(chunk.get("sizes"), origin);
                Map<?, ?> info = where.get(fqn + "@" + Arrays.toString(offsets));
                if (info == null) {
                    throw new CheckpointException(origin + ": tensor '" + fqn + "' chunk at " + Arrays.toString(offsets)
                            + " has no storage entry in .metadata");
                }
                if (info.get("transform_descriptors") instanceof List<?> l && !l.isEmpty()) {
                    throw new CheckpointException(origin + ": tensor '" + fqn + "' is stored with transforms " + l + ", not supported");
                }
                String file = String.valueOf(info.get("relative_path"));
                long off = number(info.get("offset"), origin), len = number(info.get("length"), origin);
                MemorySegment f = c.file(dir + "/" + file).orElseThrow(() -> new CheckpointException(origin + ": data file "
                        + file + " of tensor '" + fqn + "' is missing"));
                if (off < 0 || off + len > f.byteSize()) {
                    throw new CheckpointException(origin + "/" + file + ": tensor '" + fqn + "' bytes [" + off + ", " + (off + len)
                            + ") lie beyond the file's " + f.byteSize() + " bytes (truncated?)");
                }
                Tensor t = TorchCheckpoint.readSingle(f.asSlice(off, len), fqn, origin + "/" + file);
                if (t.numel() != Tensor.numel(sizes)) {
                    throw new CheckpointException(origin + "/" + file + ": chunk of '" + fqn + "' has shape "
                            + Arrays.toString(t.shape()) + ", metadata says " + Arrays.toString(sizes));
                }
                if (dtype != null && dtype != t.dtype()) {
                    throw new CheckpointException(origin + ": chunks of '" + fqn + "' mix " + dtype + " and " + t.dtype());
                }
                dtype = t.dtype();
                blocks.add(new TensorBlock(offsets, sizes, t.contiguousData()));
            }
            if (dtype == null) throw new CheckpointException(origin + ": tensor '" + fqn + "' has no chunks");
            out.put(fqn, new Tensor(fqn, dtype, shape, blocks, origin));
        }
        return out;
    }

    private static Map<?, ?> state(Object o, String origin, String what) {
        if (o instanceof SafePickle.Call c && c.state instanceof Map<?, ?> m) return m;
        if (o instanceof SafePickle.Call c && c.state instanceof SafePickle.Tuple t && !t.items().isEmpty()
                && t.items().getLast() instanceof Map<?, ?> slots) {
            // (dict, slots) state of classes with __slots__
            Map<Object, Object> merged = new LinkedHashMap<>(slots);
            if (t.items().getFirst() instanceof Map<?, ?> d) merged.putAll(d);
            return merged;
        }
        if (o instanceof SafePickle.Call c && c.state instanceof SafePickle.Tuple t) {
            return positional(c, t.items(), origin, what);
        }
        if (o instanceof SafePickle.Call c && c.state == null && !c.args.isEmpty()) {
            return positional(c, c.args, origin, what);
        }
        throw new CheckpointException(origin + ": unexpected " + what + " record in .metadata: " + o);
    }

    /** Field order of the DCP dataclasses, for records pickled positionally. */
    private static Map<?, ?> positional(SafePickle.Call c, List<Object> values, String origin, String what) {
        List<String> names = switch (c.callee.name()) {
            case "MetadataIndex" -> List.of("fqn", "offset", "index");
            case "_StorageInfo" -> List.of("relative_path", "offset", "length", "transform_descriptors");
            case "ChunkStorageMetadata" -> List.of("offsets", "sizes");
            case "TensorStorageMetadata" -> List.of("properties", "size", "chunks");
            default -> throw new CheckpointException(origin + ": unexpected " + what + " record " + c);
        };
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < Math.min(names.size(), values.size()); i++) m.put(names.get(i), values.get(i));
        return m;
    }

    private static Map<?, ?> keyFields(Object key, String origin) {
        if (key instanceof SafePickle.Call) return state(key, origin, "MetadataIndex");
        throw new CheckpointException(origin + ": unexpected storage key " + key);
    }

    private static Map<?, ?> asMap(Object o, String origin, String what) {
        if (o instanceof Map<?, ?> m) return m;
        throw new CheckpointException(origin + ": .metadata has no " + what + " map");
    }

    private static List<?> asList(Object o, String origin) {
        if (o instanceof List<?> l) return l;
        if (o instanceof SafePickle.Tuple t) return t.items();
        throw new CheckpointException(origin + ": expected a list in .metadata, got " + o);
    }

    private static long[] longs(Object o, String origin) {
        List<?> l = asList(o, origin);
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = number(l.get(i), origin);
        return out;
    }

    private static long number(Object o, String origin) {
        if (o instanceof Long l) return l;
        throw new CheckpointException(origin + ": expected an integer in .metadata, got " + o);
    }
}
