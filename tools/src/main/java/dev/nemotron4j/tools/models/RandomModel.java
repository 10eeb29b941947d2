package dev.nemotron4j.tools.models;

import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.config.NormKind;
import dev.nemotron4j.loader.safetensors.HfFolderWriter;
import dev.nemotron4j.loader.safetensors.SafetensorsWriter;
import dev.nemotron4j.loader.tensor.DType;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A Hugging Face folder with random weights (uniform, standard deviation {@code std}), written tensor by
 * tensor in 1 MB pieces so a model larger than memory can be made. Deterministic for a seed.
 */
public final class RandomModel {
    private RandomModel() {
    }

    public static void write(Path dir, ModelConfig c, DType dtype, double std, long seed) throws IOException {
        List<SafetensorsWriter.Entry> e = new ArrayList<>();
        long h = c.hiddenSize();
        long[] seeds = new SplittableRandom(seed).longs(8L * c.numLayers() + 8).toArray();
        int[] next = {0};
        java.util.function.BiFunction<String, long[], SafetensorsWriter.Entry> matrix = (name, shape) ->
                new SafetensorsWriter.Entry(name, dtype, shape, uniform(dtype, shape, 0, std, seeds[next[0]++]));
        e.add(matrix.apply("model.embed_tokens.weight", new long[]{c.vocabSize(), h}));
        boolean zeroCentred = c.norm() == NormKind.LAYERNORM_1P;
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            norm(e, p + "input_layernorm", c, zeroCentred);
            e.add(matrix.apply(p + "self_attn.q_proj.weight", new long[]{c.qDim(), h}));
            e.add(matrix.apply(p + "self_attn.k_proj.weight", new long[]{c.kvDim(), h}));
            e.add(matrix.apply(p + "self_attn.v_proj.weight", new long[]{c.kvDim(), h}));
            e.add(matrix.apply(p + "self_attn.o_proj.weight", new long[]{h, c.qDim()}));
            norm(e, p + "post_attention_layernorm", c, zeroCentred);
            if (c.activation().gated()) e.add(matrix.apply(p + "mlp.gate_proj.weight", new long[]{c.intermediateSize(), h}));
            e.add(matrix.apply(p + "mlp.up_proj.weight", new long[]{c.intermediateSize(), h}));
            e.add(matrix.apply(p + "mlp.down_proj.weight", new long[]{h, c.intermediateSize()}));
        }
        norm(e, "model.norm", c, zeroCentred);
        if (!c.tieEmbeddings()) e.add(matrix.apply("lm_head.weight", new long[]{c.vocabSize(), h}));
        HfFolderWriter.write(dir, c, e);
    }

    private static void norm(List<SafetensorsWriter.Entry> e, String prefix, ModelConfig c, boolean zeroCentred) {
        long[] shape = {c.hiddenSize()};
        // LayerNorm1p stores gamma − 1 (so 0 means identity); RMSNorm stores gamma itself.
        e.add(new SafetensorsWriter.Entry(prefix + ".weight", DType.F32, shape, constant(shape, zeroCentred ? 0f : 1f)));
        if (c.norm() != NormKind.RMSNORM) {
            e.add(new SafetensorsWriter.Entry(prefix + ".bias", DType.F32, shape, constant(shape, 0f)));
        }
    }

    private static SafetensorsWriter.Source constant(long[] shape, float v) {
        return out -> {
            ByteBuffer b = ByteBuffer.allocate((int) shape[0] * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < shape[0]; i++) b.putFloat(v);
            out.write(b.array());
        };
    }

    /** Uniform on [−a, a] with a = std·√3, so the standard deviation is {@code std}. */
    private static SafetensorsWriter.Source uniform(DType dtype, long[] shape, double mean, double std, long seed) {
        return (OutputStream out) -> {
            SplittableRandom r = new SplittableRandom(seed);
            long n = 1;
            for (long s : shape) n *= s;
            double a = std * Math.sqrt(3);
            ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (long i = 0; i < n; i++) {
                float v = (float) (mean + (r.nextDouble() * 2 - 1) * a);
                dtype.put(buf, v);
                if (!buf.hasRemaining()) {
                    out.write(buf.array(), 0, buf.position());
                    buf.clear();
                }
            }
            out.write(buf.array(), 0, buf.position());
        };
    }
}
