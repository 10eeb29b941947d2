package dev.nemotron4j.loader.tensor;

import dev.nemotron4j.loader.CheckpointException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * A named tensor whose bytes stay where the checkpoint file is mapped. Its elements are covered,
 * without overlap, by one or more {@link TensorBlock}s; {@code origin} names the file(s) it came from
 * for error messages.
 */
public record Tensor(String name, DType dtype, long[] shape, List<TensorBlock> blocks, String origin) {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public Tensor {
        shape = shape.clone();
        blocks = List.copyOf(blocks);
        long expected = numel(shape);
        long covered = 0;
        for (TensorBlock b : blocks) {
            if (b.shape().length != shape.length) {
                throw new CheckpointException(origin + ": tensor '" + name + "' has a block of rank "
                        + b.shape().length + " in a tensor of shape " + Arrays.toString(shape));
            }
            for (int d = 0; d < shape.length; d++) {
                if (b.start(d) < 0 || b.start(d) + b.size(d) > shape[d]) {
                    throw new CheckpointException(origin + ": tensor '" + name + "' block " + b
                            + " lies outside shape " + Arrays.toString(shape));
                }
            }
            long n = numel(b.shape());
            if (shape.length > 0 && b.size(shape.length - 1) % dtype.blockSize() != 0) {
                throw new CheckpointException(origin + ": tensor '" + name + "' rows of " + b.size(shape.length - 1)
                        + " elements are not whole " + dtype + " blocks of " + dtype.blockSize());
            }
            if (b.data().byteSize() != dtype.bytesFor(n)) {
                throw new CheckpointException(origin + ": tensor '" + name + "' block " + b + " holds "
                        + b.data().byteSize() + " bytes, expected " + dtype.bytesFor(n) + " (" + n + " × "
                        + dtype + ")");
            }
            covered += n;
        }
        if (covered != expected) {
            throw new CheckpointException(origin + ": tensor '" + name + "' blocks cover " + covered
                    + " elements, shape " + Arrays.toString(shape) + " needs " + expected);
        }
    }

    /** One block spanning the whole tensor. */
    public static Tensor contiguous(String name, DType dtype, long[] shape, MemorySegment data, String origin) {
        return new Tensor(name, dtype, shape, List.of(new TensorBlock(new long[shape.length], shape, data)), origin);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int d) {
        return shape[d];
    }

    public long numel() {
        return numel(shape);
    }

    public long byteSize() {
        return dtype.bytesFor(numel());
    }

    public boolean isContiguous() {
        return blocks.size() == 1;
    }

    /** The bytes of a single-block tensor. */
    public MemorySegment contiguousData() {
        if (!isContiguous()) {
            throw new IllegalStateException("tensor '" + name + "' is stored in " + blocks.size() + " blocks");
        }
        return blocks.getFirst().data();
    }

    /** Same bytes under another name (formats rename tensors to the canonical names). */
    public Tensor renamed(String newName) {
        return new Tensor(newName, dtype, shape, blocks, origin);
    }

    /** Every element widened to float, in C order. Meant for small tensors (norm weights, biases). */
    public float[] toFloatArray() {
        if (dtype.isQuantized()) {
            throw new IllegalStateException("tensor '" + name + "' is " + dtype + "-quantized; dequantize it with the kernels");
        }
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor '" + name + "' is too large to copy: " + n + " elements");
        }
        float[] out = new float[(int) n];
        long[] strides = strides(shape);
        for (TensorBlock b : blocks) {
            long[] bs = b.shape();
            long count = numel(bs);
            long[] idx = new long[bs.length];
            for (long i = 0; i < count; i++) {
                long flat = 0;
                for (int d = 0; d < bs.length; d++) {
                    flat += (b.start(d) + idx[d]) * strides[d];
                }
                out[(int) flat] = readFloat(dtype, b.data(), i);
                for (int d = bs.length - 1; d >= 0; d--) {
                    if (++idx[d] < bs[d]) break;
                    idx[d] = 0;
                }
            }
        }
        return out;
    }

    /** Element {@code index} of a dense segment of {@code dtype}, widened to float. */
    public static float readFloat(DType dtype, MemorySegment data, long index) {
        return switch (dtype) {
            case F32 -> data.get(F32, index * 4);
            case BF16 -> Float.intBitsToFloat((data.get(I16, index * 2) & 0xFFFF) << 16);
            case F16 -> Float.float16ToFloat(data.get(I16, index * 2));
            default -> throw new CheckpointException("tensor of dtype " + dtype + " cannot be read as floats");
        };
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n = Math.multiplyExact(n, s);
        }
        return n;
    }

    static long[] strides(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            s[d] = acc;
            acc *= shape[d];
        }
        return s;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " (" + blocks.size() + " block(s), " + origin + ")";
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }
}
