package dev.nemotron4j.engine.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import static dev.nemotron4j.engine.kernels.VectorDot.F;
import static dev.nemotron4j.engine.kernels.VectorDot.I;

/**
 * The integer prefill micro-kernels for {@link Repacked} Q4_0 matrices: a panel of weight rows widened once into
 * signed value pairs ({@link Repacked#toPairs}) times int8 activations ({@link Int8Activations}, repacked layout),
 * two multiply-adds per 32-bit multiply (the identity in {@link PackedIntDot}).
 *
 * <p>A group is 16 blocks of 32 values, one block per int lane, 16 pair-words deep. Per (row, token) one int
 * accumulator sums the group's 16 products: with 4-bit weights |Σ cross terms| ≤ 16·8·127 and the pair sums
 * ≤ 16·2·8·127 (so 2¹⁶ × that stays below 2³¹). Converted to float it is 2¹⁶ × the block sums plus cross terms
 * below 0.25 (the weight scales carry the 2⁻¹⁶); one FMA per group applies both block scales, lane by lane.
 *
 * <p>The 4-row × 3-token tile keeps 12 int and 12 float accumulators and the three token vectors in registers
 * (28 of AVX-512's 32); each 32-bit multiply does 32 multiply-adds where an F32 FMA does 16. The tiles are
 * written out row by row on purpose: C2 keeps accumulators in registers only as separate locals (no arrays, no
 * vector-returning helpers; bench/NOTES.md, step 5).
 */
final class PairTiles {
    private PairTiles() {
    }

    /**
     * Rows {@code [p0, p1)} of a pair panel (row {@code r}'s pairs at {@code (r-p0)·cols/2}, its scales at
     * {@code (r-p0)·cols/32}) times every token of {@code xq}/{@code xs}, added to {@code out} (token-major, stride
     * {@code rows}): 4×3 tiles, {@link #tile4x2} or {@link #tile4x1} for the tokens left, one-row dots for the rows
     * left.
     */
    static void panel(int[] panel, float[] ps, int p0, int p1, int[] xq, float[] xs, int tokens, int cols,
                      float[] out, int rows) {
        int half = cols / 2, blocks = cols / 32, groups = cols / Repacked.GROUP;
        for (int t = 0, n; t < tokens; t += n) {
            n = Math.min(3, tokens - t); // three tokens at a time, then the one or two left
            int r = p0;
            for (; r + 4 <= p1; r += 4) {
                int w0 = (r - p0) * half, s0 = (r - p0) * blocks, o = t * rows + r;
                switch (n) {
                    case 3 -> tile4x3(panel, w0, half, ps, s0, blocks, xq, t * half, half, xs, t * blocks, blocks, groups,
                            out, o, rows);
                    case 2 -> tile4x2(panel, w0, half, ps, s0, blocks, xq, t * half, half, xs, t * blocks, blocks, groups,
                            out, o, rows);
                    default -> tile4x1(panel, w0, half, ps, s0, blocks, xq, t * half, xs, t * blocks, groups, out, o);
                }
            }
            for (; r < p1; r++) {
                for (int k = t; k < t + n; k++) {
                    out[k * rows + r] += dot(panel, (r - p0) * half, ps, (r - p0) * blocks, xq, k * half, xs, k * blocks, groups);
                }
            }
        }
    }

    /**
     * Rows {@code w0 + k·wStride} (k &lt; 4) of the pair panel, with scales {@code s0 + k·sStride}, times tokens
     * {@code x0 + t·xStride} (t &lt; 3), with scales {@code xs0 + t·xsStride}, over {@code groups} groups; added to
     * {@code out[o0 + t·outStride + k]}.
     */
    static void tile4x3(int[] w, int w0, int wStride, float[] ws, int s0, int sStride,
                        int[] x, int x0, int xStride, float[] xs, int xs0, int xsStride,
                        int groups, float[] out, int o0, int outStride) {
        int w1 = w0 + wStride, w2 = w1 + wStride, w3 = w2 + wStride;
        int xa = x0, xb = x0 + xStride, xc = x0 + 2 * xStride;
        FloatVector f00 = FloatVector.zero(F), f01 = f00, f02 = f00, f10 = f00, f11 = f00, f12 = f00;
        FloatVector f20 = f00, f21 = f00, f22 = f00, f30 = f00, f31 = f00, f32 = f00;
        for (int g = 0; g < groups; g++) {
            IntVector a00 = IntVector.zero(I), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
            IntVector a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
            int end = 256 * g + 256;
            for (int i = 256 * g; i < end; i += 16) {
                IntVector v0 = IntVector.fromArray(I, x, xa + i), v1 = IntVector.fromArray(I, x, xb + i);
                IntVector v2 = IntVector.fromArray(I, x, xc + i);
                IntVector q = IntVector.fromArray(I, w, w0 + i);
                a00 = a00.add(q.mul(v0));
                a01 = a01.add(q.mul(v1));
                a02 = a02.add(q.mul(v2));
                q = IntVector.fromArray(I, w, w1 + i);
                a10 = a10.add(q.mul(v0));
                a11 = a11.add(q.mul(v1));
                a12 = a12.add(q.mul(v2));
                q = IntVector.fromArray(I, w, w2 + i);
                a20 = a20.add(q.mul(v0));
                a21 = a21.add(q.mul(v1));
                a22 = a22.add(q.mul(v2));
                q = IntVector.fromArray(I, w, w3 + i);
                a30 = a30.add(q.mul(v0));
                a31 = a31.add(q.mul(v1));
                a32 = a32.add(q.mul(v2));
            }
            int sg = 16 * g;
            FloatVector t0 = FloatVector.fromArray(F, xs, xs0 + sg), t1 = FloatVector.fromArray(F, xs, xs0 + xsStride + sg);
            FloatVector t2 = FloatVector.fromArray(F, xs, xs0 + 2 * xsStride + sg);
            FloatVector r = FloatVector.fromArray(F, ws, s0 + sg);
            f00 = ((FloatVector) a00.convert(VectorOperators.I2F, 0)).fma(r.mul(t0), f00);
            f01 = ((FloatVector) a01.convert(VectorOperators.I2F, 0)).fma(r.mul(t1), f01);
            f02 = ((FloatVector) a02.convert(VectorOperators.I2F, 0)).fma(r.mul(t2), f02);
            r = FloatVector.fromArray(F, ws, s0 + sStride + sg);
            f10 = ((FloatVector) a10.convert(VectorOperators.I2F, 0)).fma(r.mul(t0), f10);
            f11 = ((FloatVector) a11.convert(VectorOperators.I2F, 0)).fma(r.mul(t1), f11);
            f12 = ((FloatVector) a12.convert(VectorOperators.I2F, 0)).fma(r.mul(t2), f12);
            r = FloatVector.fromArray(F, ws, s0 + 2 * sStride + sg);
            f20 = ((FloatVector) a20.convert(VectorOperators.I2F, 0)).fma(r.mul(t0), f20);
            f21 = ((FloatVector) a21.convert(VectorOperators.I2F, 0)).fma(r.mul(t1), f21);
            f22 = ((FloatVector) a22.convert(VectorOperators.I2F, 0)).fma(r.mul(t2), f22);
            r = FloatVector.fromArray(F, ws, s0 + 3 * sStride + sg);
            f30 = ((FloatVector) a30.convert(VectorOperators.I2F, 0)).fma(r.mul(t0), f30);
            f31 = ((FloatVector) a31.convert(VectorOperators.I2F, 0)).fma(r.mul(t1), f31);
            f32 = ((FloatVector) a32.convert(VectorOperators.I2F, 0)).fma(r.mul(t2), f32);
        }
        int o1 = o0 + outStride, o2 = o1 + outStride;
        out[o0] += f00.reduceLanes(VectorOperators.ADD);
        out[o0 + 1] += f10.reduceLanes(VectorOperators.ADD);
        out[o0 + 2] += f20.reduceLanes(VectorOperators.ADD);
        out[o0 + 3] += f30.reduceLanes(VectorOperators.ADD);
        out[o1] += f01.reduceLanes(VectorOperators.ADD);
        out[o1 + 1] += f11.reduceLanes(VectorOperators.ADD);
        out[o1 + 2] += f21.reduceLanes(VectorOperators.ADD);
        out[o1 + 3] += f31.reduceLanes(VectorOperators.ADD);
        out[o2] += f02.reduceLanes(VectorOperators.ADD);
        out[o2 + 1] += f12.reduceLanes(VectorOperators.ADD);
        out[o2 + 2] += f22.reduceLanes(VectorOperators.ADD);
        out[o2 + 3] += f32.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Four rows of the pair panel times two tokens (when {@link #tile4x3} leaves two: pp128 does), same arguments as
     * there: each weight vector loaded once for both tokens, where two {@link #tile4x1} passes load it twice.
     */
    static void tile4x2(int[] w, int w0, int wStride, float[] ws, int s0, int sStride,
                        int[] x, int x0, int xStride, float[] xs, int xs0, int xsStride,
                        int groups, float[] out, int o0, int outStride) {
        int w1 = w0 + wStride, w2 = w1 + wStride, w3 = w2 + wStride;
        int xa = x0, xb = x0 + xStride;
        FloatVector f00 = FloatVector.zero(F), f01 = f00, f10 = f00, f11 = f00, f20 = f00, f21 = f00, f30 = f00, f31 = f00;
        for (int g = 0; g < groups; g++) {
            IntVector a00 = IntVector.zero(I), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            int end = 256 * g + 256;
            for (int i = 256 * g; i < end; i += 16) {
                IntVector v0 = IntVector.fromArray(I, x, xa + i), v1 = IntVector.fromArray(I, x, xb + i);
                IntVector q = IntVector.fromArray(I, w, w0 + i);
                a00 = a00.add(q.mul(v0));
                a01 = a01.add(q.mul(v1));
                q = IntVector.fromArray(I, w, w1 + i);
                a10 = a10.add(q.mul(v0));
                a11 = a11.add(q.mul(v1));
                q = IntVector.fromArray(I, w, w2 + i);
                a20 = a20.add(q.mul(v0));
                a21 = a21.add(q.mul(v1));
                q = IntVector.fromArray(I, w, w3 + i);
                a30 = a30.add(q.mul(v0));
                a31 = a31.add(q.mul(v1));
            }
            int sg = 16 * g;
            FloatVector t0 = FloatVector.fromArray(F, xs, xs0 + sg), t1 = FloatVector.fromArray(F, xs, xs0 + xsStride + sg);
            FloatVector r = FloatVector.fromArray(F, ws, s0 + sg);
            f00 = ((FloatVector) a00.convert(VectorOperators.I2F, 0)).fma(r.mul(t0), f00);
            f01 = ((FloatVector) a01.convert(VectorOperators.I2F, 0)).fma(r.mul(t1), f01);
            r = FloatVector.fromArray(F, ws, s0 + sStride + sg);
            f10 = ((FloatVector) a10.convert(VectorOperators.I2F, 0)).fma(r.mul(t0), f10);
            f11 = ((FloatVector) a11.convert(VectorOperators.I2F, 0)).fma(r.mul(t1), f11);
            r = FloatVector.fromArray(F, ws, s0 + 2 * sStride + sg);
            f20 = ((FloatVector) a20.convert(VectorOperators.I2F, 0)).fma(r.mul(t0), f20);
            f21 = ((FloatVector) a21.convert(VectorOperators.I2F, 0)).fma(r.mul(t1), f21);
            r = FloatVector.fromArray(F, ws, s0 + 3 * sStride + sg);
            f30 = ((FloatVector) a30.convert(VectorOperators.I2F, 0)).fma(r.mul(t0), f30);
            f31 = ((FloatVector) a31.convert(VectorOperators.I2F, 0)).fma(r.mul(t1), f31);
        }
        int o1 = o0 + outStride;
        out[o0] += f00.reduceLanes(VectorOperators.ADD);
        out[o0 + 1] += f10.reduceLanes(VectorOperators.ADD);
        out[o0 + 2] += f20.reduceLanes(VectorOperators.ADD);
        out[o0 + 3] += f30.reduceLanes(VectorOperators.ADD);
        out[o1] += f01.reduceLanes(VectorOperators.ADD);
        out[o1 + 1] += f11.reduceLanes(VectorOperators.ADD);
        out[o1 + 2] += f21.reduceLanes(VectorOperators.ADD);
        out[o1 + 3] += f31.reduceLanes(VectorOperators.ADD);
    }

    /** Four rows of the pair panel times one token (the token {@link #tile4x3} leaves); same arguments. */
    static void tile4x1(int[] w, int w0, int wStride, float[] ws, int s0, int sStride,
                        int[] x, int x0, float[] xs, int xs0, int groups, float[] out, int o0) {
        int w1 = w0 + wStride, w2 = w1 + wStride, w3 = w2 + wStride;
        FloatVector f0 = FloatVector.zero(F), f1 = f0, f2 = f0, f3 = f0;
        for (int g = 0; g < groups; g++) {
            IntVector a0 = IntVector.zero(I), a1 = a0, a2 = a0, a3 = a0;
            int end = 256 * g + 256;
            for (int i = 256 * g; i < end; i += 16) {
                IntVector v = IntVector.fromArray(I, x, x0 + i);
                a0 = a0.add(IntVector.fromArray(I, w, w0 + i).mul(v));
                a1 = a1.add(IntVector.fromArray(I, w, w1 + i).mul(v));
                a2 = a2.add(IntVector.fromArray(I, w, w2 + i).mul(v));
                a3 = a3.add(IntVector.fromArray(I, w, w3 + i).mul(v));
            }
            int sg = 16 * g;
            FloatVector t = FloatVector.fromArray(F, xs, xs0 + sg);
            f0 = ((FloatVector) a0.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, ws, s0 + sg).mul(t), f0);
            f1 = ((FloatVector) a1.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, ws, s0 + sStride + sg).mul(t), f1);
            f2 = ((FloatVector) a2.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, ws, s0 + 2 * sStride + sg).mul(t), f2);
            f3 = ((FloatVector) a3.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, ws, s0 + 3 * sStride + sg).mul(t), f3);
        }
        out[o0] += f0.reduceLanes(VectorOperators.ADD);
        out[o0 + 1] += f1.reduceLanes(VectorOperators.ADD);
        out[o0 + 2] += f2.reduceLanes(VectorOperators.ADD);
        out[o0 + 3] += f3.reduceLanes(VectorOperators.ADD);
    }

    /** One row of the pair panel times one token (the rows the tiles leave); same arguments as {@link #tile4x3}. */
    static float dot(int[] w, int w0, float[] ws, int s0, int[] x, int x0, float[] xs, int xs0, int groups) {
        FloatVector f = FloatVector.zero(F);
        for (int g = 0; g < groups; g++) {
            IntVector a = IntVector.zero(I), b = a;
            int i = 256 * g, end = i + 256;
            for (; i < end; i += 32) {
                a = a.add(IntVector.fromArray(I, w, w0 + i).mul(IntVector.fromArray(I, x, x0 + i)));
                b = b.add(IntVector.fromArray(I, w, w0 + i + 16).mul(IntVector.fromArray(I, x, x0 + i + 16)));
            }
            f = ((FloatVector) a.add(b).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, ws, s0 + 16 * g).mul(FloatVector.fromArray(F, xs, xs0 + 16 * g)), f);
        }
        return f.reduceLanes(VectorOperators.ADD);
    }
}
