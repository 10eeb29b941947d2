package dev.nemotron4j.tools.cli;

import dev.nemotron4j.loader.Checkpoint;
import dev.nemotron4j.loader.CheckpointLoader;
import dev.nemotron4j.loader.config.Activation;
import dev.nemotron4j.loader.config.Architecture;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.config.NormKind;
import dev.nemotron4j.loader.tensor.DType;
import dev.nemotron4j.loader.tensor.Tensor;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code random-model}'s GGUF path on a small shape (the presets are gigabytes): the file loads with the shape asked
 * for, its matrices in the type asked for with a standard deviation of 0.02, and the temporary folder it streams
 * through is gone afterwards.
 */
class RandomModelTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}")
    @CsvSource({"BF16", "F16", "F32"})
    void aRandomGgufHasTheShapeTheTypeAndTheSpreadAskedFor(DType type) throws Exception {
        var config = new ModelConfig(Architecture.NEMOTRON, 1000, 256, 512, 2, 4, 2, 64, 4096, 1e-5,
                NormKind.LAYERNORM_1P, Activation.RELU2, 10000, 32, null, false, 2, List.of(3));
        Path out = tmp.resolve("random-" + type + ".gguf");
        RandomModelCommand.writeGguf(out, config, type, 42);
        try (Checkpoint ck = CheckpointLoader.open(out)) {
            ModelConfig c = ck.config();
            assertEquals(List.of(1000, 256, 512, 2, 4, 2, 64), List.of(c.vocabSize(), c.hiddenSize(), c.intermediateSize(),
                    c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim()));
            assertEquals(config.parameterCount(), c.parameterCount());
            Tensor up = ck.tensors().require("model.layers.1.mlp.up_proj.weight");
            assertEquals(type, up.dtype());
            float[] v = up.toFloatArray();
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
}
