package dev.nemotron4j.loader.gguf;

/** ggml tensor type ids as stored in GGUF tensor infos. */
public final class GgmlType {
    public static final int F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9, Q2_K = 10,
            Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28,
            BF16 = 30;

    private GgmlType() {
    }

    public static String name(int id) {
        return switch (id) {
            case F32 -> "F32";
            case F16 -> "F16";
            case Q4_0 -> "Q4_0";
            case Q4_1 -> "Q4_1";
            case Q5_0 -> "Q5_0";
            case Q5_1 -> "Q5_1";
            case Q8_0 -> "Q8_0";
            case Q8_1 -> "Q8_1";
            case Q2_K -> "Q2_K";
            case Q3_K -> "Q3_K";
            case Q4_K -> "Q4_K";
            case Q5_K -> "Q5_K";
            case Q6_K -> "Q6_K";
            case Q8_K -> "Q8_K";
            case BF16 -> "BF16";
            default -> "#" + id;
        };
    }

    /** The id for one of our weight types. */
    public static int of(dev.nemotron4j.loader.tensor.DType t) {
        return switch (t) {
            case F32 -> F32;
            case F16 -> F16;
            case BF16 -> BF16;
            case Q8_0 -> Q8_0;
            case Q4_0 -> Q4_0;
            case Q6_K -> Q6_K;
            default -> throw new IllegalArgumentException(t + " has no GGUF type");
        };
    }
}
