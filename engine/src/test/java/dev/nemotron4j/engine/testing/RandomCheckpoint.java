package dev.nemotron4j.engine.testing;

import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.config.NormKind;
import dev.nemotron4j.loader.safetensors.HfFolderWriter;
import dev.nemotron4j.loader.safetensors.SafetensorsWriter;
import dev.nemotron4j.loader.tensor.DType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Writes a Hugging Face folder with seeded random weights of a given shape and dtype. */
public final class RandomCheckpoint {
    private RandomCheckpoint() {
    }

    public static Path write(Path dir, ModelConfig c, DType dtype, long seed) throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<SafetensorsWriter.Entry> e = new ArrayList<>();
        int h = c.hiddenSize();
        e.add(entry("model.embed_tokens.weight", dtype, rnd, Math.sqrt(h), c.vocabSize(), h));
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            norm(e, p + "input_layernorm", c, h, rnd);
            e.add(entry(p + "self_attn.q_proj.weight", dtype, rnd, 1.5, c.qDim(), h));
            e.add(entry(p + "self_attn.k_proj.weight", dtype, rnd, 1.5, c.kvDim(), h));
            e.add(entry(p + "self_attn.v_proj.weight", dtype, rnd, 1.5, c.kvDim(), h));
            e.add(entry(p + "self_attn.o_proj.weight", dtype, rnd, 1.0, h, c.qDim()));
            norm(e, p + "post_attention_layernorm", c, h, rnd);
            if (c.activation().gated()) e.add(entry(p + "mlp.gate_proj.weight", dtype, rnd, 1.0, c.intermediateSize(), h));
            e.add(entry(p + "mlp.up_proj.weight", dtype, rnd, 1.0, c.intermediateSize(), h));
            e.add(entry(p + "mlp.down_proj.weight", dtype, rnd, 1.0, h, c.intermediateSize()));
        }
        norm(e, "model.norm", c, h, rnd);
        if (!c.tieEmbeddings()) e.add(entry("lm_head.weight", dtype, rnd, 3.0, c.vocabSize(), h));
        HfFolderWriter.write(dir, c, e);
        return dir;
    }

    private static void norm(List<SafetensorsWriter.Entry> e, String prefix, ModelConfig c, int h, SplittableRandom rnd) {
        // LayerNorm1p stores gamma around zero; RMSNorm around one.
        double centre = c.norm() == NormKind.LAYERNORM_1P ? 0 : 1;
        e.add(centred(prefix + ".weight", DType.F32, rnd, 0.1, centre, h));
        if (c.norm() != NormKind.RMSNORM) e.add(centred(prefix + ".bias", DType.F32, rnd, 0.1, 0, h));
    }

    /** Matrix entries with standard deviation gain/sqrt(fan-in), so activations stay of order one. */
    private static SafetensorsWriter.Entry entry(String name, DType dtype, SplittableRandom rnd, double gain, long... shape) {
        return centred(name, dtype, rnd, gain / Math.sqrt(shape[1]), 0, shape);
    }

    private static SafetensorsWriter.Entry centred(String name, DType dtype, SplittableRandom rnd, double scale,
                                                   double centre, long... shape) {
        long n = 1;
        for (long s : shape) n *= s;
        ByteBuffer buf = ByteBuffer.allocate((int) (n * dtype.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
            float v = (float) (centre + scale * rnd.nextGaussian());
            switch (dtype) {
                case F32 -> buf.putFloat(v);
                case BF16 -> buf.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
                case F16 -> buf.putShort(Float.floatToFloat16(v));
                default -> throw new IllegalArgumentException(dtype.toString());
            }
        }
        byte[] bytes = buf.array();
        return new SafetensorsWriter.Entry(name, dtype, shape, out -> out.write(bytes));
    }
}
