package dev.nemotron4j.engine.kernels;

import dev.nemotron4j.loader.tensor.DType;

/**
 * {@code out[t, r] = Σ_c W[r, c] · x[t, c]} for {@code T} activation rows, split over rows of W across
 * the pool. Rows of {@code x} and {@code out} are packed with strides {@code W.cols()} and
 * {@code W.rows()}. With several tokens each weight row is streamed once for up to four tokens.
 */
public final class MatMul {
    private MatMul() {
    }

    public static void apply(WeightMatrix w, float[] x, int tokens, float[] out, WorkerPool pool) {
        int rows = w.rows(), cols = w.cols();
        WeightMatrix.Block[] blocks = w.blocks();
        DType dtype = w.dtype();
        pool.forRange(rows, (long) cols * tokens, (chunk, r0, r1) -> {
            for (int t = 0; t < tokens; t++) {
                java.util.Arrays.fill(out, t * rows + r0, t * rows + r1, 0f);
            }
            float[] four = new float[4];
            for (WeightMatrix.Block b : blocks) {
                int lo = Math.max(r0, b.rowStart()), hi = Math.min(r1, b.rowStart() + b.rows());
                for (int r = lo; r < hi; r++) {
                    long off = b.offset() + (long) (r - b.rowStart()) * b.rowStride();
                    int c0 = b.colStart(), n = b.cols();
                    int t = 0;
                    for (; t + 4 <= tokens; t += 4) {
                        VectorDot.dot4(dtype, b.data(), off, x, t * cols + c0, (t + 1) * cols + c0, (t + 2) * cols + c0,
                                (t + 3) * cols + c0, n, four, 0);
                        out[t * rows + r] += four[0];
                        out[(t + 1) * rows + r] += four[1];
                        out[(t + 2) * rows + r] += four[2];
                        out[(t + 3) * rows + r] += four[3];
                    }
                    for (; t < tokens; t++) {
                        out[t * rows + r] += VectorDot.dot(dtype, b.data(), off, x, t * cols + c0, n);
                    }
                }
            }
        });
    }
}
