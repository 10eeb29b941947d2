package dev.nemotron4j.tools.cli;

import dev.nemotron4j.loader.Checkpoint;
import dev.nemotron4j.loader.CheckpointLoader;
import dev.nemotron4j.loader.config.Activation;
import dev.nemotron4j.loader.config.Architecture;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.config.NormKind;
import dev.nemotron4j.loader.config.RopeScaling;
import dev.nemotron4j.loader.tensor.DType;
import dev.nemotron4j.loader.tensor.Tensor;
import dev.nemotron4j.tools.convert.GgufExporter;
import dev.nemotron4j.tools.models.RandomModel;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code random-model}'s GGUF path on small shapes (the presets are gigabytes): the file loads with the shape asked
 * for, its matrices in the type asked for (quantized ones too) with a standard deviation of 0.02, nothing else is written beside it, and it
 * holds the same model as a Hugging Face folder written with the same seed.
 */
class RandomModelTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}")
    @CsvSource({"BF16", "F16", "F32", "Q8_0", "Q4_0"})
    void aRandomGgufHasTheShapeTheTypeAndTheSpreadAskedFor(DType type) throws Exception {
        var config = new ModelConfig(Architecture.NEMOTRON, 1000, 256, 512, 2, 4, 2, 64, 4096, 1e-5,
                NormKind.LAYERNORM_1P, Activation.RELU2, 10000, 32, null, false, 2, List.of(3));
        Path out = tmp.resolve("random-" + type + ".gguf");
        RandomModelCommand.writeGguf(out, config, GgufExporter.Target.valueOf(type.name()), 42, null);
        try (Checkpoint ck = CheckpointLoader.open(out)) {
            ModelConfig c = ck.config();
            assertEquals(List.of(1000, 256, 512, 2, 4, 2, 64), List.of(c.vocabSize(), c.hiddenSize(), c.intermediateSize(),
                    c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim()));
            assertEquals(config.parameterCount(), c.parameterCount());
            Tensor up = ck.tensors().require("model.layers.1.mlp.up_proj.weight");
            assertEquals(type, up.dtype());
            // as llama.cpp's Q4_0 files: the output layer in Q6_K
            assertEquals(type == DType.Q4_0 ? DType.Q6_K : type, ck.tensors().require("lm_head.weight").dtype());
            var m = dev.nemotron4j.engine.kernels.WeightMatrix.of(up); // dequantizes the quantized types
            float[] v = new float[m.rows() * m.cols()];
            for (int r = 0; r < m.rows(); r++) m.readRow(r, v, r * m.cols());
            double sum = 0, squares = 0;
            for (float f : v) {
                sum += f;
                squares += (double) f * f;
            }
            double mean = sum / v.length, std = Math.sqrt(squares / v.length - mean * mean);
            assertTrue(Math.abs(mean) < 1e-3 && Math.abs(std - 0.02) < 1e-3, "mean " + mean + ", std " + std);
        }
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of(out.getFileName().toString()), left.map(p -> p.getFileName().toString()).toList(),
                    "only the file is left");
        }
    }

    /**
     * The GGUF made straight from the random rows and the folder made with the same seed are one model: Nemotron
     * (LayerNorm1p, whose +1 the GGUF holds) and Llama (RMSNorm, q/k rows permuted in the GGUF, llama3 rotary
     * scaling as a {@code rope_freqs} tensor, tied embeddings: no output tensor) give the same logits from both;
     * another seed gives others.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"NEMOTRON", "LLAMA"})
    void theGgufHoldsTheModelOfTheFolderWithTheSameSeed(Architecture arch) throws Exception {
        boolean nemotron = arch == Architecture.NEMOTRON;
        var config = nemotron
                ? new ModelConfig(arch, 600, 256, 512, 2, 4, 2, 64, 4096, 1e-5, NormKind.LAYERNORM_1P, Activation.RELU2,
                10000, 32, null, false, 2, List.of(3))
                : new ModelConfig(arch, 600, 256, 512, 2, 4, 2, 64, 8192, 1e-5, NormKind.RMSNORM, Activation.SWIGLU,
                500000, 64, RopeScaling.llama3(8, 1, 4, 1024), true, 1, List.of(2));
        Path folder = tmp.resolve("folder");
        RandomModel.write(folder, config, DType.BF16, 0.02, 5);
        Path same = tmp.resolve("same.gguf"), other = tmp.resolve("other.gguf");
        RandomModelCommand.writeGguf(same, config, GgufExporter.Target.BF16, 5, null);
        RandomModelCommand.writeGguf(other, config, GgufExporter.Target.BF16, 6, null);
        int[] ids = {4, 99, 321, 7, 550, 12};
        float[] want = GgufTest.logits(folder, ids), got = GgufTest.logits(same, ids), another = GgufTest.logits(other, ids);
        double scale = 0, worst = 0, apart = 0;
        for (int i = 0; i < want.length; i++) {
            scale = Math.max(scale, Math.abs(want[i]));
            worst = Math.max(worst, Math.abs(want[i] - got[i]));
            apart = Math.max(apart, Math.abs(want[i] - another[i]));
        }
        assertTrue(worst <= 1e-4 * scale, arch + ": max |diff| " + worst + " of max |logit| " + scale);
        assertTrue(apart > 0.1 * scale, arch + ": another seed changed the logits by only " + apart);
        try (Checkpoint a = CheckpointLoader.open(folder); Checkpoint b = CheckpointLoader.open(same)) {
            String name = "model.layers.1.self_attn.v_proj.weight";
            assertArrayEquals(a.tensors().require(name).toFloatArray(), b.tensors().require(name).toFloatArray(), name);
        }
    }
}
