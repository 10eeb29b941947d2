package dev.nemotron4j.engine;

import dev.nemotron4j.engine.generate.GenerationResult;
import dev.nemotron4j.engine.testing.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static dev.nemotron4j.engine.testing.Tolerance.assertLogitsClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every NeMo layout in the fixtures gives the reference's logits and greedy tokens, as its hf/ twin does. */
class NemoGoldenTest {

    @ParameterizedTest(name = "{0}/{1}")
    @CsvSource({
            "nemotron-gqa-f32, model.nemo, torch checkpoint",
            "nemotron-gqa-bf16-zarr, model.nemo.d, zarr distributed checkpoint",
            "nemotron-gqa-bf16-zarr, model.torchdist.nemo.d, torch_dist distributed checkpoint",
            "nemotron-tp2-bf16, model.nemo, tensor-parallel shards",
            "nemotron-tp2-bf16, model.tp2pp2.nemo, tensor × pipeline shards",
            "nemotron3-mha-legacy, model.nemo, torch checkpoint"})
    void nemoLayoutMatchesTheGoldenAndItsHuggingFaceTwin(String fixture, String file, String layout) {
        Fixtures.Golden golden = Fixtures.golden(fixture);
        try (NemotronModel nemo = NemotronModel.load(Fixtures.path(fixture + "/" + file), LoadOptions.defaults().withThreads(2));
             NemotronModel hf = NemotronModel.load(Fixtures.path(fixture + "/hf"), LoadOptions.defaults().withThreads(2))) {
            assertTrue(nemo.checkpoint().layout().contains(layout), nemo.checkpoint().layout());
            assertEquals(hf.config(), nemo.config(), "the .nemo config must describe the same model as config.json");
            for (Fixtures.Prompt p : golden.prompts()) {
                float[][] got = nemo.logitsAll(p.ids());
                float[][] twin = hf.logitsAll(p.ids());
                for (int t = 0; t < got.length; t++) {
                    assertLogitsClose(p.logits()[t], got[t], 0, fixture + "/" + file + " position " + t);
                    assertLogitsClose(twin[t], got[t], 0, fixture + "/" + file + " vs hf position " + t);
                }
                GenerationResult r = nemo.generateGreedy(p.ids(), p.greedy().length, id -> true);
                assertArrayEquals(p.greedy(), r.tokenIds(), fixture + "/" + file + " greedy");
            }
        }
    }
}
