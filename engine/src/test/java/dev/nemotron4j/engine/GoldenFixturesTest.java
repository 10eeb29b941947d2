package dev.nemotron4j.engine;

import dev.nemotron4j.engine.generate.GenerationResult;
import dev.nemotron4j.engine.generate.Greedy;
import dev.nemotron4j.engine.testing.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

import static dev.nemotron4j.engine.testing.Tolerance.assertLogitsClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The engine against the independent float64 reference's outputs stored in ../shared/fixtures. */
class GoldenFixturesTest {

    @ParameterizedTest
    @ValueSource(strings = {"nemotron-gqa-f32", "nemotron-gqa-bf16-zarr", "nemotron-tp2-bf16", "nemotron3-mha-legacy",
            "llama31-f32"})
    void everyPositionsLogitsMatchTheReferenceInOneBatch(String fixture) {
        Fixtures.Golden golden = Fixtures.golden(fixture);
        try (NemotronModel model = NemotronModel.load(Fixtures.path(fixture + "/hf"), LoadOptions.defaults().withThreads(2))) {
            for (Fixtures.Prompt p : golden.prompts()) {
                float[][] got = model.logitsAll(p.ids());
                assertEquals(p.ids().length, got.length);
                for (int t = 0; t < got.length; t++) {
                    assertLogitsClose(p.logits()[t], got[t], 0, fixture + " position " + t);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"nemotron-gqa-f32", "nemotron-gqa-bf16-zarr", "nemotron-tp2-bf16", "nemotron3-mha-legacy",
            "llama31-f32"})
    void tokenByTokenDecodingThroughTheKvCacheMatchesTheReference(String fixture) {
        Fixtures.Golden golden = Fixtures.golden(fixture);
        try (NemotronModel model = NemotronModel.load(Fixtures.path(fixture + "/hf"), LoadOptions.defaults().withThreads(2));
             InferenceSession s = model.newSession()) {
            for (Fixtures.Prompt p : golden.prompts()) {
                s.reset();
                // a short prefill, then one token at a time, so both paths write the cache
                int split = p.ids().length / 3;
                float[] first = s.prefillAll(Arrays.copyOf(p.ids(), split));
                int v = model.config().vocabSize();
                for (int t = 0; t < split; t++) assertLogitsClose(p.logits()[t], first, t * v, fixture + " prefill " + t);
                for (int t = split; t < p.ids().length; t++) {
                    float[] got = s.decode(p.ids()[t]);
                    assertLogitsClose(p.logits()[t], got, 0, fixture + " decode position " + t);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"nemotron-gqa-f32", "nemotron-gqa-bf16-zarr", "nemotron-tp2-bf16", "nemotron3-mha-legacy",
            "llama31-f32"})
    void greedyContinuationMatchesWithTheCacheAndWithFullRecompute(String fixture) {
        Fixtures.Golden golden = Fixtures.golden(fixture);
        try (NemotronModel model = NemotronModel.load(Fixtures.path(fixture + "/hf"), LoadOptions.defaults().withThreads(2))) {
            for (Fixtures.Prompt p : golden.prompts()) {
                int n = p.greedy().length;
                GenerationResult cached = model.generateGreedy(p.ids(), n, id -> true);
                assertArrayEquals(p.greedy(), cached.tokenIds(), fixture + " greedy via KV cache");

                int[] seq = Arrays.copyOf(p.ids(), p.ids().length + n);
                for (int i = 0; i < n; i++) {
                    int len = p.ids().length + i;
                    float[][] all = model.logitsAll(Arrays.copyOf(seq, len));
                    seq[len] = Greedy.argmax(all[len - 1]);
                }
                assertArrayEquals(p.greedy(), Arrays.copyOfRange(seq, p.ids().length, seq.length),
                        fixture + " greedy via full recompute");
            }
        }
    }
}
