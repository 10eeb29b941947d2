package dev.nemotron4j.loader.tensor;

import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Optional;

/**
 * Element types found in checkpoints. Plain types have a size per element; block-quantized GGUF types
 * (Q8_0, Q4_0, Q6_K) store {@link #blockSize()} elements in {@link #blockBytes()} bytes, so sizes are asked for
 * with {@link #bytesFor(long)}. Only {@link #isFloatWeight() weight types} are computed with; the rest are known
 * so that errors can name them instead of calling them garbage.
 */
public enum DType {
    F32(32, true), F16(16, true), BF16(16, true), F64(64, false),
    I8(8, false), U8(8, false), I16(16, false), U16(16, false), I32(32, false), U32(32, false),
    I64(64, false), U64(64, false), BOOL(8, false),
    F8_E4M3(8, false), F8_E5M2(8, false),
    /** 32 values: an F16 scale and 32 signed bytes. */
    Q8_0(32, 34),
    /** 32 values: an F16 scale and 16 bytes of 4-bit values (offset 8). */
    Q4_0(32, 18),
    /** 256 values: 4+2-bit values with 16 signed 8-bit sub-block scales and an F16 scale. */
    Q6_K(256, 210);

    private final int bits;
    private final boolean floatWeight;
    private final int blockSize;
    private final int blockBytes;

    DType(int bits, boolean floatWeight) {
        this.bits = bits;
        this.floatWeight = floatWeight;
        this.blockSize = 1;
        this.blockBytes = bits / 8;
    }

    DType(int blockSize, int blockBytes) {
        this.bits = 0;
        this.floatWeight = true;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** Bytes per element of a plain type. */
    public int byteSize() {
        if (isQuantized()) throw new IllegalStateException(this + " has no size per element; use bytesFor(n)");
        return bits / 8;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** Elements per block (1 for plain types). */
    public int blockSize() {
        return blockSize;
    }

    public int blockBytes() {
        return blockBytes;
    }

    /**
     * Bytes that {@code n} consecutive elements take; for block types {@code n} must be a whole number of blocks.
     * @throws ArithmeticException if the count overflows a long (a corrupt header's shape)
     */
    public long bytesFor(long n) {
        if (n % blockSize != 0) {
            throw new IllegalArgumentException(n + " elements are not a whole number of " + this + " blocks of " + blockSize);
        }
        return Math.multiplyExact(n / blockSize, (long) blockBytes);
    }

    /**
     * Appends {@code f} to {@code b} in this type, which must be F32, F16 or BF16 (BF16 rounded as {@link #bf16Bits}):
     * the one place the writers (safetensors, GGUF, random weights) encode floats.
     */
    public void put(ByteBuffer b, float f) {
        switch (this) {
            case F32 -> b.putFloat(f);
            case F16 -> b.putShort(Float.floatToFloat16(f));
            case BF16 -> b.putShort(bf16Bits(f));
            default -> throw new IllegalArgumentException(this + " is not a float type (F32, F16 or BF16)");
        }
    }

    /** {@code f} as bfloat16 bits, rounded to nearest even as PyTorch rounds float → bfloat16 (NaN stays NaN). */
    public static short bf16Bits(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** True for the types the kernels read directly. */
    public boolean isFloatWeight() {
        return floatWeight;
    }

    /** The safetensors spelling ("BF16", "F32", ...). */
    public static Optional<DType> fromSafetensors(String name) {
        try {
            DType d = valueOf(name.toUpperCase(Locale.ROOT));
            return d.isQuantized() ? Optional.empty() : Optional.of(d);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
