package dev.nemotron4j.loader.tensor;

import java.util.Locale;
import java.util.Optional;

/**
 * Element types found in checkpoints. Only {@link #isFloatWeight() floating-point weight types} are
 * computed with; the rest are known so that errors can name them instead of calling them garbage.
 */
public enum DType {
    F32(32, true), F16(16, true), BF16(16, true), F64(64, false),
    I8(8, false), U8(8, false), I16(16, false), U16(16, false), I32(32, false), U32(32, false),
    I64(64, false), U64(64, false), BOOL(8, false),
    F8_E4M3(8, false), F8_E5M2(8, false);

    private final int bits;
    private final boolean floatWeight;

    DType(int bits, boolean floatWeight) {
        this.bits = bits;
        this.floatWeight = floatWeight;
    }

    public int byteSize() {
        return bits / 8;
    }

    /** True for the types the kernels read directly (F32, F16, BF16). */
    public boolean isFloatWeight() {
        return floatWeight;
    }

    /** The safetensors spelling ("BF16", "F32", ...). */
    public static Optional<DType> fromSafetensors(String name) {
        try {
            return Optional.of(valueOf(name.toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
