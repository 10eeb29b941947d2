package dev.nemotron4j.loader.gguf;

import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.io.MappedFiles;
import dev.nemotron4j.loader.tensor.DType;
import dev.nemotron4j.loader.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF (v2/v3) file, memory-mapped: header, metadata (numbers, strings, arrays — numeric arrays become primitive
 * arrays, string arrays lists), tensor infos, and tensors as slices of the data section. Everything is validated
 * before use: counts and lengths against the file size, alignment, tensor bytes inside the file and not overlapping.
 */
public final class GgufFile {
    static final int MAGIC = 0x46554747; // "GGUF" little-endian
    static final long DEFAULT_ALIGNMENT = 32;

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, Tensor> tensors;
    private final Map<String, Integer> ggmlTypes;

    private GgufFile(Path path, int version, Map<String, Object> metadata, Map<String, Tensor> tensors,
                     Map<String, Integer> ggmlTypes) {
        this.path = path;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.ggmlTypes = ggmlTypes;
    }

    public static GgufFile open(Path path, Arena arena) {
        return new Reader(path, MappedFiles.map(path, arena)).read();
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public Map<String, Object> metadata() {
        return metadata;
    }

    /** Tensors under their GGUF names, shaped PyTorch-style (outermost dimension first). */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    /** The ggml type id of each tensor as stored. */
    public Map<String, Integer> ggmlTypes() {
        return ggmlTypes;
    }

    /** ggml_type ids → our element types; null for types the engine cannot compute with. */
    static DType dtypeOf(int ggmlType) {
        return switch (ggmlType) {
            case GgmlType.F32 -> DType.F32;
            case GgmlType.F16 -> DType.F16;
            case GgmlType.Q4_0 -> DType.Q4_0;
            case GgmlType.Q8_0 -> DType.Q8_0;
            case GgmlType.Q6_K -> DType.Q6_K;
            case GgmlType.BF16 -> DType.BF16;
            case GgmlType.I8 -> DType.I8;
            case GgmlType.I16 -> DType.I16;
            case GgmlType.I32 -> DType.I32;
            case GgmlType.I64 -> DType.I64;
            case GgmlType.F64 -> DType.F64;
            default -> null;
        };
    }

    private static final class Reader {
        private final Path path;
        private final MemorySegment f;
        private final long size;
        private long pos;

        Reader(Path path, MemorySegment f) {
            this.path = path;
            this.f = f;
            this.size = f.byteSize();
        }

        private void need(long n, String what) {
            if (n < 0 || pos + n > size) {
                throw new CheckpointException(path + ": GGUF " + what + " at byte " + pos + " reaches beyond the end of the file ("
                        + size + " bytes): truncated or corrupt");
            }
        }

        private int u32(String what) {
            need(4, what);
            int v = f.get(I32, pos);
            pos += 4;
            return v;
        }

        private long u64(String what) {
            need(8, what);
            long v = f.get(I64, pos);
            pos += 8;
            return v;
        }

        private String string(String what) {
            long n = u64(what + " length");
            need(n, what);
            String s = new String(f.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            pos += n;
            return s;
        }

        GgufFile read() {
            if (size < 24) throw new CheckpointException(path + ": not a GGUF file (" + size + " bytes; truncated?)");
            if (u32("magic") != MAGIC) throw new CheckpointException(path + ": not a GGUF file (no GGUF magic)");
            int version = u32("version");
            if (version < 2 || version > 3) {
                throw new CheckpointException(path + ": GGUF version " + version + " is not supported (2 and 3 are)");
            }
            long nTensors = u64("tensor count"), nKv = u64("metadata count");
            if (nTensors < 0 || nTensors > 1_000_000 || nKv < 0 || nKv > 1_000_000) {
                throw new CheckpointException(path + ": implausible GGUF header (" + nTensors + " tensors, " + nKv + " metadata entries)");
            }
            Map<String, Object> meta = new LinkedHashMap<>();
            for (long i = 0; i < nKv; i++) {
                String key = string("metadata key");
                int type = u32("metadata type of '" + key + "'");
                meta.put(key, value(type, key));
            }
            record Info(String name, long[] dims, int type, long offset) { }
            List<Info> infos = new ArrayList<>();
            for (long i = 0; i < nTensors; i++) {
                String name = string("tensor name");
                int nDims = u32("dimension count of '" + name + "'");
                if (nDims < 0 || nDims > 8) throw new CheckpointException(path + ": tensor '" + name + "' has " + nDims + " dimensions");
                long[] dims = new long[nDims];
                for (int d = 0; d < nDims; d++) {
                    dims[d] = u64("dimension of '" + name + "'");
                    if (dims[d] < 0) throw new CheckpointException(path + ": tensor '" + name + "' has a negative dimension");
                }
                infos.add(new Info(name, dims, u32("type of '" + name + "'"), u64("offset of '" + name + "'")));
            }
            long alignment = meta.get("general.alignment") instanceof Number n ? n.longValue() : DEFAULT_ALIGNMENT;
            if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
                throw new CheckpointException(path + ": general.alignment " + alignment + " is not a power of two");
            }
            long dataStart = (pos + alignment - 1) / alignment * alignment;
            if (dataStart > size) throw new CheckpointException(path + ": GGUF data section starts beyond the end of the file (truncated)");
            long dataSize = size - dataStart;
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Map<String, Integer> types = new LinkedHashMap<>();
            List<long[]> spans = new ArrayList<>();
            for (Info in : infos) {
                DType dt = dtypeOf(in.type);
                if (dt == null) {
                    throw new CheckpointException(path + ": tensor '" + in.name + "' has ggml type " + GgmlType.name(in.type)
                            + ", which this engine cannot read (F32, F16, BF16, Q8_0, Q4_0, Q6_K)");
                }
                long[] shape = new long[in.dims.length];
                for (int d = 0; d < shape.length; d++) shape[d] = in.dims[shape.length - 1 - d]; // ne[0] is innermost
                if (shape.length > 0 && shape[shape.length - 1] % dt.blockSize() != 0) {
                    throw new CheckpointException(path + ": tensor '" + in.name + "' rows of " + shape[shape.length - 1]
                            + " are not whole " + dt + " blocks");
                }
                long bytes;
                try {
                    bytes = dt.bytesFor(Tensor.numel(shape));
                } catch (ArithmeticException e) {
                    throw new CheckpointException(path + ": tensor '" + in.name + "' has dimensions " + Arrays.toString(in.dims)
                            + ", more " + dt + " bytes than any file holds (a corrupt header?)");
                }
                if (in.offset % alignment != 0) {
                    throw new CheckpointException(path + ": tensor '" + in.name + "' offset " + Long.toUnsignedString(in.offset) + " is not aligned to " + alignment);
                }
                // offset and bytes are each at most Long.MAX_VALUE: compared without adding them, which could overflow
                if (in.offset < 0 || bytes > dataSize || in.offset > dataSize - bytes) {
                    throw new CheckpointException(path + ": tensor '" + in.name + "' data (" + bytes + " bytes from offset "
                            + Long.toUnsignedString(in.offset) + ") lies beyond the data section of " + dataSize + " bytes (truncated?)");
                }
                if (tensors.containsKey(in.name)) throw new CheckpointException(path + ": tensor '" + in.name + "' appears twice");
                spans.add(new long[]{in.offset, in.offset + bytes, infos.indexOf(in)});
                tensors.put(in.name, Tensor.contiguous(in.name, dt, shape, f.asSlice(dataStart + in.offset, bytes), path.toString()));
                types.put(in.name, in.type);
            }
            spans.sort(Comparator.comparingLong(s -> s[0]));
            for (int i = 1; i < spans.size(); i++) {
                if (spans.get(i)[0] < spans.get(i - 1)[1] && spans.get(i)[1] > spans.get(i)[0]) {
                    throw new CheckpointException(path + ": tensors '" + infos.get((int) spans.get(i - 1)[2]).name + "' and '"
                            + infos.get((int) spans.get(i)[2]).name + "' overlap");
                }
            }
            return new GgufFile(path, version, meta, tensors, types);
        }

        private Object value(int type, String key) {
            return switch (type) {
                case 0 -> (long) (byteAt(key) & 0xFF);
                case 1 -> (long) byteAt(key);
                case 2 -> (long) (shortAt(key) & 0xFFFF);
                case 3 -> (long) shortAt(key);
                case 4 -> u32(key) & 0xFFFFFFFFL;
                case 5 -> (long) u32(key);
                case 6 -> {
                    need(4, key);
                    float v = f.get(F32, pos);
                    pos += 4;
                    yield (double) v;
                }
                case 7 -> byteAt(key) != 0;
                case 8 -> string(key);
                case 9 -> array(key);
                case 10, 11 -> u64(key);
                case 12 -> {
                    need(8, key);
                    double v = f.get(F64, pos);
                    pos += 8;
                    yield v;
                }
                default -> throw new CheckpointException(path + ": metadata '" + key + "' has unknown value type " + type);
            };
        }

        private byte byteAt(String what) {
            need(1, what);
            return f.get(ValueLayout.JAVA_BYTE, pos++);
        }

        private short shortAt(String what) {
            need(2, what);
            short v = f.get(I16, pos);
            pos += 2;
            return v;
        }

        /** Arrays of arrays being read, and how many may nest. */
        private int depth;
        private static final int MAX_ARRAY_DEPTH = 8;

        private Object array(String key) {
            int type = u32(key + " array type");
            long n = u64(key + " array length");
            if (n < 0 || n > size - pos) {
                throw new CheckpointException(path + ": metadata array '" + key + "' claims " + n + " elements, more than the file holds");
            }
            switch (type) {
                case 6 -> {
                    need(4 * n, key);
                    float[] a = new float[(int) n];
                    MemorySegment.copy(f, F32, pos, a, 0, (int) n);
                    pos += 4 * n;
                    return a;
                }
                case 4, 5 -> {
                    need(4 * n, key);
                    int[] a = new int[(int) n];
                    MemorySegment.copy(f, I32, pos, a, 0, (int) n);
                    pos += 4 * n;
                    return a;
                }
                case 8 -> {
                    List<String> a = new ArrayList<>((int) Math.min(n, 1 << 20));
                    for (long i = 0; i < n; i++) a.add(string(key + "[" + i + "]"));
                    return a;
                }
                default -> {
                    // arrays of arrays: GGUF writers nest one level at most; a deep nest is a corrupt or hostile file
                    if (type == 9 && ++depth > MAX_ARRAY_DEPTH) {
                        throw new CheckpointException(path + ": metadata array '" + key + "' nests arrays more than "
                                + MAX_ARRAY_DEPTH + " deep");
                    }
                    List<Object> a = new ArrayList<>();
                    for (long i = 0; i < n; i++) a.add(value(type, key + "[" + i + "]"));
                    if (type == 9) depth--;
                    return a;
                }
            }
        }
    }

    @Override
    public String toString() {
        return path + " (GGUF v" + version + ", " + tensors.size() + " tensors, " + metadata.size() + " metadata keys)";
    }
}
