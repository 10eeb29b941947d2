package dev.nemotron4j.engine;

import dev.nemotron4j.engine.testing.Fixtures;
import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.safetensors.SafetensorsWriter;
import dev.nemotron4j.loader.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A broken checkpoint or request gives one clear error naming what is wrong, and nothing else breaks. */
class BadInputTest {
    @TempDir
    Path tmp;

    /** Copies the f32 fixture with its tensors passed through {@code edit}. */
    private Path editedFixture(UnaryOperator<List<SafetensorsWriter.Entry>> edit) throws IOException {
        Path src = Fixtures.path("nemotron-gqa-f32/hf");
        Path dst = tmp.resolve("edited");
        Files.createDirectories(dst);
        Files.copy(src.resolve("config.json"), dst.resolve("config.json"));
        try (Arena arena = Arena.ofConfined()) {
            var file = dev.nemotron4j.loader.safetensors.SafetensorsFile.open(src.resolve("model.safetensors"), arena);
            List<SafetensorsWriter.Entry> entries = new ArrayList<>();
            file.tensors().values().forEach(t -> entries.add(new SafetensorsWriter.Entry(t.name(), t.dtype(), t.shape(),
                    SafetensorsWriter.copyOf(t))));
            SafetensorsWriter.write(dst.resolve("model.safetensors"), edit.apply(entries), Map.of());
        }
        return dst;
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), "\"" + e.getMessage() + "\" should mention \"" + p + "\"");
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Path dir = editedFixture(es -> es.stream().filter(e -> !e.name().equals("model.layers.1.mlp.down_proj.weight")).toList());
        assertMentions(assertThrows(CheckpointException.class, () -> NemotronModel.load(dir)),
                "missing tensor 'model.layers.1.mlp.down_proj.weight'", dir.toString());
    }

    @Test
    void wrongShapeIsNamedWithTheExpectedShape() throws IOException {
        Path dir = editedFixture(es -> es.stream().map(e -> !e.name().equals("model.layers.0.self_attn.k_proj.weight") ? e
                : new SafetensorsWriter.Entry(e.name(), DType.F32, new long[]{64, 32}, e.source())).toList());
        assertMentions(assertThrows(CheckpointException.class, () -> NemotronModel.load(dir)),
                "'model.layers.0.self_attn.k_proj.weight'", "[64, 32]", "expected [32, 64]");
    }

    @Test
    void weightsOfANonFloatDtypeAreRefused() throws IOException {
        Path dir = editedFixture(es -> es.stream().map(e -> !e.name().equals("lm_head.weight") ? e
                : new SafetensorsWriter.Entry(e.name(), DType.I32, e.shape(), e.source())).toList());
        assertMentions(assertThrows(CheckpointException.class, () -> NemotronModel.load(dir)),
                "'lm_head.weight'", "I32", "expected F32, F16 or BF16");
    }

    @Test
    void aFolderWithoutWeightsOrConfigIsExplained() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertMentions(assertThrows(CheckpointException.class, () -> NemotronModel.load(empty)), "not a model");
        Files.writeString(empty.resolve("config.json"), Files.readString(Fixtures.path("nemotron-gqa-f32/hf/config.json")));
        assertMentions(assertThrows(CheckpointException.class, () -> NemotronModel.load(empty)), "no *.safetensors");
        assertMentions(assertThrows(CheckpointException.class, () -> NemotronModel.load(tmp.resolve("nope"))),
                "no such file");
    }

    @Test
    void promptLongerThanTheContextIsRefusedAndTheSessionStaysUsable() {
        try (NemotronModel model = NemotronModel.load(Fixtures.path("nemotron-gqa-f32/hf"),
                LoadOptions.defaults().withContextLength(8));
             InferenceSession s = model.newSession()) {
            assertEquals(8, model.contextLength());
            ContextOverflowException e = assertThrows(ContextOverflowException.class, () -> s.prefill(new int[9]));
            assertMentions(e, "9 positions", "context holds 8");
            assertThrows(ContextOverflowException.class, () -> model.generateGreedy(new int[9], 1, id -> true));
            assertEquals(0, s.position());
            s.prefill(new int[]{1, 2, 3, 4, 5, 6, 7});
            s.decode(8);
            assertThrows(ContextOverflowException.class, () -> s.decode(9));
            assertEquals(8, s.position());
        }
    }

    @Test
    void tokenIdsOutsideTheVocabularyAreRefused() {
        try (NemotronModel model = NemotronModel.load(Fixtures.path("nemotron-gqa-f32/hf"));
             InferenceSession s = model.newSession()) {
            assertMentions(assertThrows(IllegalArgumentException.class, () -> s.prefill(new int[]{5, 1024})),
                    "token id 1024", "[0, 1024)");
        }
    }

    @Test
    void generationStopsAtTheContextLimit() {
        try (NemotronModel model = NemotronModel.load(Fixtures.path("nemotron-gqa-f32/hf"),
                LoadOptions.defaults().withContextLength(6))) {
            var r = model.generateGreedy(new int[]{5, 6, 7}, 100, id -> true);
            assertEquals(dev.nemotron4j.engine.generate.StopReason.CONTEXT_FULL, r.stopReason());
            assertEquals(4, r.tokenIds().length); // 3 prompt + 3 decoded fill the cache, and one more is predicted
        }
    }

    @Test
    void twoModelsLiveInOneJvmIndependently() {
        try (NemotronModel a = NemotronModel.load(Fixtures.path("nemotron-gqa-f32/hf"));
             NemotronModel b = NemotronModel.load(Fixtures.path("llama31-f32/hf"))) {
            int[] ids = {10, 20, 30};
            float[] la = a.logitsAll(ids)[2];
            float[] lb = b.logitsAll(ids)[2];
            a.close();
            assertEquals(lb[7], b.logitsAll(ids)[2][7]);
            assertTrue(la[7] != lb[7]);
        }
    }
}
