package dev.nemotron4j.engine.model;

import dev.nemotron4j.engine.kernels.Norms;
import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.config.NormKind;
import dev.nemotron4j.loader.tensor.Tensor;

import java.util.Arrays;

/**
 * One normalisation layer, its parameters widened to floats (they are tiny). Nemotron's zero-centred
 * LayerNorm1p gamma gets its +1 here, once, so no kernel knows about it.
 */
public record NormWeights(NormKind kind, float[] gamma, float[] beta, float eps) {

    public static NormWeights of(NormKind kind, Tensor weight, Tensor bias, double eps, int size) {
        float[] gamma = vector(weight, size);
        float[] beta = null;
        switch (kind) {
            case LAYERNORM_1P -> {
                for (int i = 0; i < gamma.length; i++) gamma[i] += 1f;
                beta = vector(bias, size);
            }
            case LAYERNORM -> beta = vector(bias, size);
            case RMSNORM -> {
                if (bias != null) {
                    throw new CheckpointException(bias.origin() + ": tensor '" + bias.name() + "' is a bias on an RMSNorm");
                }
            }
        }
        return new NormWeights(kind, gamma, beta, (float) eps);
    }

    private static float[] vector(Tensor t, int size) {
        if (t == null) {
            throw new IllegalArgumentException("norm parameter missing");
        }
        if (t.rank() != 1 || t.dim(0) != size) {
            throw new CheckpointException(t.origin() + ": tensor '" + t.name() + "' has shape " + Arrays.toString(t.shape())
                    + ", expected [" + size + "]");
        }
        if (!t.dtype().isFloatWeight()) {
            throw new CheckpointException(t.origin() + ": tensor '" + t.name() + "' has dtype " + t.dtype()
                    + "; expected F32, F16 or BF16");
        }
        return t.toFloatArray();
    }

    public void apply(float[] x, int xOff, float[] out, int outOff) {
        if (kind == NormKind.RMSNORM) {
            Norms.rmsNorm(x, xOff, out, outOff, gamma.length, gamma, eps);
        } else {
            Norms.layerNorm(x, xOff, out, outOff, gamma.length, gamma, beta, eps);
        }
    }
}
