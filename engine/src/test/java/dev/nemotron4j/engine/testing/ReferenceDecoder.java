package dev.nemotron4j.engine.testing;

import dev.nemotron4j.loader.config.Activation;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.config.NormKind;
import dev.nemotron4j.loader.config.RopeScaling;
import dev.nemotron4j.loader.tensor.TensorSet;

/**
 * A deliberately naive float64 implementation of the model math, written from the spec (§1, §3) and sharing
 * no code with the engine: no cache, no SIMD, no threads, every position recomputed. The oracle for shapes
 * and seeds that have no golden file.
 */
public final class ReferenceDecoder {
    private final ModelConfig c;
    private final TensorSet t;

    public ReferenceDecoder(ModelConfig c, TensorSet t) {
        this.c = c;
        this.t = t;
    }

    private double[] vec(String name) {
        float[] f = t.require(name).toFloatArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    /** Row-major [rows][cols]. */
    private double[][] mat(String name) {
        long[] s = t.require(name).shape();
        double[] flat = vec(name);
        double[][] m = new double[(int) s[0]][(int) s[1]];
        for (int r = 0; r < s[0]; r++) System.arraycopy(flat, (int) (r * s[1]), m[r], 0, (int) s[1]);
        return m;
    }

    private static double[] mv(double[][] w, double[] x) {
        double[] y = new double[w.length];
        for (int r = 0; r < w.length; r++) {
            double s = 0;
            for (int k = 0; k < x.length; k++) s += w[r][k] * x[k];
            y[r] = s;
        }
        return y;
    }

    private double[] norm(double[] x, String prefix) {
        double[] w = vec(prefix + ".weight");
        int n = x.length;
        double[] y = new double[n];
        if (c.norm() == NormKind.RMSNORM) {
            double ss = 0;
            for (double v : x) ss += v * v;
            double inv = 1 / Math.sqrt(ss / n + c.normEps());
            for (int i = 0; i < n; i++) y[i] = x[i] * inv * w[i];
            return y;
        }
        double[] b = vec(prefix + ".bias");
        double mean = 0;
        for (double v : x) mean += v;
        mean /= n;
        double var = 0;
        for (double v : x) var += (v - mean) * (v - mean);
        var /= n;
        double inv = 1 / Math.sqrt(var + c.normEps());
        for (int i = 0; i < n; i++) {
            double gamma = c.norm() == NormKind.LAYERNORM_1P ? 1 + w[i] : w[i];
            y[i] = (x[i] - mean) * inv * gamma + b[i];
        }
        return y;
    }

    private double invFreq(int j) {
        int rot = c.rotaryDim();
        double f = Math.pow(c.ropeTheta(), -2.0 * j / rot);
        RopeScaling s = c.ropeScaling();
        if (s == null) return f;
        if (s.type() == RopeScaling.Type.LINEAR) return f / s.factor();
        if (s.type() == RopeScaling.Type.FACTORS) return f / s.factors()[j];
        double lambda = 2 * Math.PI / f;
        double lowW = s.originalMaxPositions() / s.lowFreqFactor();
        double highW = s.originalMaxPositions() / s.highFreqFactor();
        if (lambda < highW) return f;
        if (lambda > lowW) return f / s.factor();
        double sm = (s.originalMaxPositions() / lambda - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
        return (1 - sm) * f / s.factor() + sm * f;
    }

    private void rope(double[] v, int heads, int pos) {
        int hd = c.headDim(), half = c.rotaryDim() / 2;
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < half; j++) {
                double a = pos * invFreq(j);
                int i0 = c.ropeInterleaved() ? h * hd + 2 * j : h * hd + j;
                int i1 = c.ropeInterleaved() ? i0 + 1 : i0 + half;
                double x0 = v[i0], x1 = v[i1];
                v[i0] = x0 * Math.cos(a) - x1 * Math.sin(a);
                v[i1] = x1 * Math.cos(a) + x0 * Math.sin(a);
            }
        }
    }

    /** Logits [T][vocab] for every position of {@code ids}. */
    public double[][] logits(int[] ids) {
        int T = ids.length, h = c.hiddenSize(), hd = c.headDim(), nh = c.numHeads(), ng = c.numKvHeads();
        double[][] emb = mat("model.embed_tokens.weight");
        double[][] x = new double[T][];
        for (int i = 0; i < T; i++) x[i] = emb[ids[i]].clone();
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] wq = mat(p + "self_attn.q_proj.weight"), wk = mat(p + "self_attn.k_proj.weight");
            double[][] wv = mat(p + "self_attn.v_proj.weight"), wo = mat(p + "self_attn.o_proj.weight");
            double[][] q = new double[T][], k = new double[T][], v = new double[T][];
            for (int i = 0; i < T; i++) {
                double[] a = norm(x[i], p + "input_layernorm");
                q[i] = mv(wq, a);
                k[i] = mv(wk, a);
                v[i] = mv(wv, a);
                rope(q[i], nh, i);
                rope(k[i], ng, i);
            }
            for (int i = 0; i < T; i++) {
                double[] o = new double[nh * hd];
                for (int head = 0; head < nh; head++) {
                    int g = head / (nh / ng);
                    double[] s = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        double d = 0;
                        for (int e = 0; e < hd; e++) d += q[i][head * hd + e] * k[j][g * hd + e];
                        s[j] = d / Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) sum += s[j] = Math.exp(s[j] - max);
                    for (int j = 0; j <= i; j++) {
                        for (int e = 0; e < hd; e++) o[head * hd + e] += s[j] / sum * v[j][g * hd + e];
                    }
                }
                double[] y = mv(wo, o);
                for (int e = 0; e < h; e++) x[i][e] += y[e];
            }
            double[][] up = mat(p + "mlp.up_proj.weight"), down = mat(p + "mlp.down_proj.weight");
            double[][] gate = c.activation() == Activation.SWIGLU ? mat(p + "mlp.gate_proj.weight") : null;
            for (int i = 0; i < T; i++) {
                double[] m = norm(x[i], p + "post_attention_layernorm");
                double[] u = mv(up, m);
                if (gate != null) {
                    double[] g = mv(gate, m);
                    for (int e = 0; e < u.length; e++) u[e] *= g[e] / (1 + Math.exp(-g[e]));
                } else {
                    for (int e = 0; e < u.length; e++) u[e] = Math.max(0, u[e]) * Math.max(0, u[e]);
                }
                double[] y = mv(down, u);
                for (int e = 0; e < h; e++) x[i][e] += y[e];
            }
        }
        double[][] head = t.contains("lm_head.weight") ? mat("lm_head.weight") : emb;
        double[][] out = new double[T][];
        for (int i = 0; i < T; i++) out[i] = mv(head, norm(x[i], "model.norm"));
        return out;
    }
}
