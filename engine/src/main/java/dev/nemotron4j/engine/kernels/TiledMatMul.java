package dev.nemotron4j.engine.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.nemotron4j.engine.kernels.VectorDot.F;
import static dev.nemotron4j.engine.kernels.VectorDot.LANES;

/**
 * The prefill micro-kernel: a 4-row × 4-token tile over a weight panel already widened to floats keeps 16
 * accumulators in registers, so each loaded weight vector feeds 4 FMAs and each activation vector 4 more, where a
 * plain dot product does 1.
 */
final class TiledMatMul {
    private TiledMatMul() {
    }

    /** The 4×4 tile over weights already widened into a float panel (rows {@code wStride} apart). */
    static void tile4x4(float[] w, int w0, int wStride, float[] x, int x0, int xStride, int n, float[] out, int o0,
                        int outStride) {
        int w1 = w0 + wStride, w2 = w1 + wStride, w3 = w2 + wStride;
        int xa = x0, xb = x0 + xStride, xc = x0 + 2 * xStride, xd = x0 + 3 * xStride;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int i = 0;
        for (int bound = n - LANES; i <= bound; i += LANES) {
            FloatVector v0 = FloatVector.fromArray(F, x, xa + i), v1 = FloatVector.fromArray(F, x, xb + i);
            FloatVector v2 = FloatVector.fromArray(F, x, xc + i), v3 = FloatVector.fromArray(F, x, xd + i);
            FloatVector q = FloatVector.fromArray(F, w, w0 + i);
            a00 = q.fma(v0, a00);
            a01 = q.fma(v1, a01);
            a02 = q.fma(v2, a02);
            a03 = q.fma(v3, a03);
            q = FloatVector.fromArray(F, w, w1 + i);
            a10 = q.fma(v0, a10);
            a11 = q.fma(v1, a11);
            a12 = q.fma(v2, a12);
            a13 = q.fma(v3, a13);
            q = FloatVector.fromArray(F, w, w2 + i);
            a20 = q.fma(v0, a20);
            a21 = q.fma(v1, a21);
            a22 = q.fma(v2, a22);
            a23 = q.fma(v3, a23);
            q = FloatVector.fromArray(F, w, w3 + i);
            a30 = q.fma(v0, a30);
            a31 = q.fma(v1, a31);
            a32 = q.fma(v2, a32);
            a33 = q.fma(v3, a33);
        }
        float s00 = a00.reduceLanes(VectorOperators.ADD), s01 = a01.reduceLanes(VectorOperators.ADD);
        float s02 = a02.reduceLanes(VectorOperators.ADD), s03 = a03.reduceLanes(VectorOperators.ADD);
        float s10 = a10.reduceLanes(VectorOperators.ADD), s11 = a11.reduceLanes(VectorOperators.ADD);
        float s12 = a12.reduceLanes(VectorOperators.ADD), s13 = a13.reduceLanes(VectorOperators.ADD);
        float s20 = a20.reduceLanes(VectorOperators.ADD), s21 = a21.reduceLanes(VectorOperators.ADD);
        float s22 = a22.reduceLanes(VectorOperators.ADD), s23 = a23.reduceLanes(VectorOperators.ADD);
        float s30 = a30.reduceLanes(VectorOperators.ADD), s31 = a31.reduceLanes(VectorOperators.ADD);
        float s32 = a32.reduceLanes(VectorOperators.ADD), s33 = a33.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float q0 = w[w0 + i], q1 = w[w1 + i], q2 = w[w2 + i], q3 = w[w3 + i];
            float y0 = x[xa + i], y1 = x[xb + i], y2 = x[xc + i], y3 = x[xd + i];
            s00 += q0 * y0; s01 += q0 * y1; s02 += q0 * y2; s03 += q0 * y3;
            s10 += q1 * y0; s11 += q1 * y1; s12 += q1 * y2; s13 += q1 * y3;
            s20 += q2 * y0; s21 += q2 * y1; s22 += q2 * y2; s23 += q2 * y3;
            s30 += q3 * y0; s31 += q3 * y1; s32 += q3 * y2; s33 += q3 * y3;
        }
        int o1 = o0 + outStride, o2 = o1 + outStride, o3 = o2 + outStride;
        out[o0] += s00; out[o0 + 1] += s10; out[o0 + 2] += s20; out[o0 + 3] += s30;
        out[o1] += s01; out[o1 + 1] += s11; out[o1 + 2] += s21; out[o1 + 3] += s31;
        out[o2] += s02; out[o2 + 1] += s12; out[o2 + 2] += s22; out[o2 + 3] += s32;
        out[o3] += s03; out[o3 + 1] += s13; out[o3 + 2] += s23; out[o3 + 3] += s33;
    }


}
