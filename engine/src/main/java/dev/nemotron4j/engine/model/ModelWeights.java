package dev.nemotron4j.engine.model;

import dev.nemotron4j.engine.kernels.WeightMatrix;
import dev.nemotron4j.engine.parallel.ShardPlan;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.config.NormKind;
import dev.nemotron4j.loader.tensor.Tensor;
import dev.nemotron4j.loader.tensor.TensorSet;

import java.util.List;

/** Every weight of the model bound to its role, checked for shape and dtype, sliced for one rank. */
public record ModelWeights(WeightMatrix embedding, List<LayerWeights> layers, NormWeights finalNorm,
                           WeightMatrix lmHead) {

    public static ModelWeights bind(TensorSet t, ModelConfig c, ShardPlan plan) {
        TensorNames names = new TensorNames(c.architecture());
        long h = c.hiddenSize();
        WeightMatrix embedding = WeightMatrix.of(t.require(names.embedding(), c.vocabSize(), h));
        WeightMatrix lmHead = c.tieEmbeddings() && !t.contains(names.lmHead()) ? embedding
                : WeightMatrix.of(t.require(names.lmHead(), c.vocabSize(), h));
        boolean hasBias = c.norm() != NormKind.RMSNORM;
        List<LayerWeights> layers = new java.util.ArrayList<>();
        int hd = c.headDim();
        for (int l = 0; l < c.numLayers(); l++) {
            WeightMatrix q = WeightMatrix.of(t.require(names.attn(l, "q_proj"), c.qDim(), h))
                    .sliceRows(plan.headStart() * hd, plan.heads() * hd);
            WeightMatrix k = WeightMatrix.of(t.require(names.attn(l, "k_proj"), c.kvDim(), h))
                    .sliceRows(plan.kvHeadStart() * hd, plan.kvHeads() * hd);
            WeightMatrix v = WeightMatrix.of(t.require(names.attn(l, "v_proj"), c.kvDim(), h))
                    .sliceRows(plan.kvHeadStart() * hd, plan.kvHeads() * hd);
            WeightMatrix o = WeightMatrix.of(t.require(names.attn(l, "o_proj"), h, c.qDim()))
                    .sliceCols(plan.headStart() * hd, plan.heads() * hd);
            WeightMatrix up = WeightMatrix.of(t.require(names.mlp(l, "up_proj"), c.intermediateSize(), h))
                    .sliceRows(plan.ffnStart(), plan.ffn());
            WeightMatrix upGate = up;
            if (c.activation().gated()) {
                WeightMatrix gate = WeightMatrix.of(t.require(names.mlp(l, "gate_proj"), c.intermediateSize(), h))
                        .sliceRows(plan.ffnStart(), plan.ffn());
                upGate = fused(t, "layer " + l + " gate|up", gate, up);
            }
            WeightMatrix down = WeightMatrix.of(t.require(names.mlp(l, "down_proj"), h, c.intermediateSize()))
                    .sliceCols(plan.ffnStart(), plan.ffn());
            layers.add(new LayerWeights(
                    norm(t, c, names.attnNorm(l, "weight"), hasBias ? names.attnNorm(l, "bias") : null),
                    fused(t, "layer " + l + " q|k|v", q, k, v),
                    o,
                    norm(t, c, names.mlpNorm(l, "weight"), hasBias ? names.mlpNorm(l, "bias") : null),
                    upGate,
                    down));
        }
        NormWeights finalNorm = norm(t, c, names.finalNorm("weight"), hasBias ? names.finalNorm("bias") : null);
        return new ModelWeights(embedding, List.copyOf(layers), finalNorm, lmHead);
    }

    /**
     * Projections that run as one product (q, k and v; gate and up), stacked; they must share one type, which a file
     * quantized with per-tensor types (llama.cpp's {@code --tensor-type}) may not do.
     */
    private static WeightMatrix fused(TensorSet t, String label, WeightMatrix... parts) {
        for (WeightMatrix m : parts) {
            if (m.dtype() != parts[0].dtype()) {
                throw new dev.nemotron4j.loader.CheckpointException(t.origin() + ": " + tensorName(m) + " is " + m.dtype()
                        + " but " + tensorName(parts[0]) + " is " + parts[0].dtype() + "; they run as one product (" + label
                        + ") and need one tensor type (write the file again with one type for them, e.g. with "
                        + "'nemotron4j quantize --type q8_0|q4_0|bf16')");
            }
        }
        return WeightMatrix.stackRows(label, parts);
    }

    /** The tensor a matrix was read from, without the slice this rank takes of it. */
    private static String tensorName(WeightMatrix m) {
        int slice = m.name().indexOf('[');
        return slice > 0 ? m.name().substring(0, slice) : m.name();
    }

    private static NormWeights norm(TensorSet t, ModelConfig c, String weight, String bias) {
        Tensor b = bias == null ? null : t.require(bias);
        return NormWeights.of(c.norm(), t.require(weight), b, c.normEps(), c.hiddenSize());
    }

    /** The projections a token is multiplied with, each once: every layer's four, then the output layer. */
    public List<WeightMatrix> projections() {
        List<WeightMatrix> out = new java.util.ArrayList<>();
        for (LayerWeights l : layers) out.addAll(List.of(l.qkv(), l.out(), l.upGate(), l.down()));
        out.add(lmHead);
        return out;
    }

    /** Bytes of weights one decoded token reads (every projection once, plus one embedding row). */
    public long bytesPerToken() {
        long sum = embedding.dtype().bytesFor(embedding.cols());
        for (WeightMatrix m : projections()) sum += m.byteSize();
        return sum;
    }
}
