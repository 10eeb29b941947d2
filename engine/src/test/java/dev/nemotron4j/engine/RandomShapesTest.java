package dev.nemotron4j.engine;

import dev.nemotron4j.engine.generate.GenerationResult;
import dev.nemotron4j.engine.parallel.Collective;
import dev.nemotron4j.engine.parallel.LocalCollective;
import dev.nemotron4j.engine.testing.RandomCheckpoint;
import dev.nemotron4j.engine.testing.ReferenceDecoder;
import dev.nemotron4j.loader.Checkpoint;
import dev.nemotron4j.loader.CheckpointLoader;
import dev.nemotron4j.loader.config.Activation;
import dev.nemotron4j.loader.config.Architecture;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.config.NormKind;
import dev.nemotron4j.loader.config.RopeScaling;
import dev.nemotron4j.loader.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static dev.nemotron4j.engine.testing.Tolerance.assertLogitsClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Shapes and seeds that are not in the fixtures (odd hidden sizes, head_dim ≠ hidden/heads, one KV head,
 * other rotary fractions, llama3 scaling, tied embeddings, every weight dtype) against the float64 oracle.
 */
class RandomShapesTest {
    @TempDir
    Path tmp;

    static ModelConfig nemotron(int vocab, int h, int ffn, int layers, int heads, int kv, int hd, double partial) {
        return new ModelConfig(Architecture.NEMOTRON, vocab, h, ffn, layers, heads, kv, hd, 4096, 1e-5,
                NormKind.LAYERNORM_1P, Activation.RELU2, 10000, (int) (hd * partial), null, false, 2, List.of(3));
    }

    static ModelConfig llama(int vocab, int h, int ffn, int layers, int heads, int kv, int hd, RopeScaling s, boolean tie) {
        return new ModelConfig(Architecture.LLAMA, vocab, h, ffn, layers, heads, kv, hd, 4096, 1e-5,
                NormKind.RMSNORM, Activation.SWIGLU, 500000, hd, s, tie, 1, List.of(2));
    }

    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of("nemotron gqa, head_dim≠h/nh", nemotron(301, 72, 130, 2, 6, 2, 20, 0.5), DType.F32, 11L),
                Arguments.of("nemotron mha, odd hidden, bf16", nemotron(257, 37, 53, 3, 3, 3, 16, 0.5), DType.BF16, 12L),
                Arguments.of("nemotron one kv head, quarter rotary, f16", nemotron(199, 40, 96, 2, 4, 1, 16, 0.25), DType.F16, 13L),
                Arguments.of("nemotron wide heads", nemotron(128, 24, 17, 1, 2, 2, 64, 0.5), DType.BF16, 14L),
                Arguments.of("llama3 scaled, odd ffn", llama(211, 48, 101, 2, 4, 1, 24,
                        RopeScaling.llama3(8, 1, 4, 16), false), DType.F32, 15L),
                Arguments.of("llama tied, bf16", llama(150, 33, 70, 2, 3, 3, 10, null, true), DType.BF16, 16L),
                Arguments.of("llama linear scaling, f16", llama(100, 64, 128, 2, 8, 4, 8,
                        RopeScaling.linear(4), false), DType.F16, 17L));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void logitsAtEveryPositionMatchTheFloat64Oracle(String label, ModelConfig config, DType dtype, long seed) throws Exception {
        Path dir = RandomCheckpoint.write(tmp.resolve("m"), config, dtype, seed);
        int[] ids = randomIds(config.vocabSize(), 23, seed);
        double[][] want;
        try (Checkpoint ck = CheckpointLoader.open(dir)) {
            want = new ReferenceDecoder(ck.config(), ck.tensors()).logits(ids);
        }
        for (int threads : new int[]{1, 2, 3}) {
            try (NemotronModel model = NemotronModel.load(dir, LoadOptions.defaults().withThreads(threads).withPrefillBatch(5));
                 InferenceSession s = model.newSession()) {
                float[] batch = s.prefillAll(java.util.Arrays.copyOf(ids, 17));
                for (int t = 0; t < 17; t++) {
                    assertLogitsClose(want[t], batch, t * config.vocabSize(), label + " threads " + threads + " position " + t);
                }
                for (int t = 17; t < ids.length; t++) {
                    assertLogitsClose(want[t], s.decode(ids[t]), 0, label + " threads " + threads + " decode " + t);
                }
            }
        }
    }

    /**
     * A prompt whose last token's logits alone are asked for: the last layer carries only that token on past its
     * cache stores, in every chunk of the prompt; its logits, and decode after it (which reads the last layer's cache
     * of every prompt token), still match the oracle.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void aPromptWhoseLastLogitsAloneAreAskedForMatchesTheOracle(String label, ModelConfig config, DType dtype, long seed) throws Exception {
        Path dir = RandomCheckpoint.write(tmp.resolve("m"), config, dtype, seed);
        int[] ids = randomIds(config.vocabSize(), 23, seed + 7);
        double[][] want;
        try (Checkpoint ck = CheckpointLoader.open(dir)) {
            want = new ReferenceDecoder(ck.config(), ck.tensors()).logits(ids);
        }
        for (int threads : new int[]{1, 2}) {
            for (int batch : new int[]{5, 17}) {
                try (NemotronModel model = NemotronModel.load(dir, LoadOptions.defaults().withThreads(threads).withPrefillBatch(batch));
                     InferenceSession s = model.newSession()) {
                    String where = label + " threads " + threads + " batch " + batch;
                    assertLogitsClose(want[16], s.prefill(java.util.Arrays.copyOf(ids, 17)), 0, where + " prompt");
                    for (int t = 17; t < ids.length; t++) assertLogitsClose(want[t], s.decode(ids[t]), 0, where + " decode " + t);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void greedyContinuationMatchesTheOracle(String label, ModelConfig config, DType dtype, long seed) throws Exception {
        Path dir = RandomCheckpoint.write(tmp.resolve("m"), config, dtype, seed);
        int[] prompt = randomIds(config.vocabSize(), 9, seed + 100);
        int steps = 8;
        try (NemotronModel model = NemotronModel.load(dir, LoadOptions.defaults().withThreads(2))) {
            GenerationResult r = model.generateGreedy(prompt, steps, id -> true);
            ReferenceDecoder ref = new ReferenceDecoder(model.config(), model.checkpoint().tensors());
            int[] seq = java.util.Arrays.copyOf(prompt, prompt.length + r.tokenIds().length);
            for (int i = 0; i < r.tokenIds().length; i++) {
                int len = prompt.length + i;
                double[] last = ref.logits(java.util.Arrays.copyOf(seq, len))[len - 1];
                int best = 0;
                double top = Double.NEGATIVE_INFINITY, second = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < last.length; v++) {
                    if (last[v] > top) {
                        second = top;
                        top = last[v];
                        best = v;
                    } else if (last[v] > second) {
                        second = last[v];
                    }
                }
                if (top - second > 1e-3) {
                    assertEquals(best, r.tokenIds()[i], label + " greedy step " + i);
                }
                seq[len] = best;
                if (best != r.tokenIds()[i]) break; // a near-tie diverged; the rest is not comparable
            }
        }
    }

    /**
     * A prompt long enough, on a model wide enough, that the decoder's per-token steps (norms, rotary and cache
     * stores, the MLP activation, the residual adds) split over two threads rather than run on the caller: 70
     * tokens of hidden 512 and FFN 1024 pass the pool's minimum work for each of them. Both MLP kinds.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("wideShapes")
    void aLongBatchSplitsItsPerTokenStepsOverThePool(String label, ModelConfig config) throws Exception {
        Path dir = RandomCheckpoint.write(tmp.resolve("w"), config, DType.F32, 31);
        int[] ids = randomIds(config.vocabSize(), 70, 32);
        double[][] want;
        try (Checkpoint ck = CheckpointLoader.open(dir)) {
            want = new ReferenceDecoder(ck.config(), ck.tensors()).logits(ids);
        }
        try (NemotronModel model = NemotronModel.load(dir, LoadOptions.defaults().withThreads(2).withPrefillBatch(70));
             InferenceSession s = model.newSession()) {
            float[] batch = s.prefillAll(ids);
            for (int t = 0; t < ids.length; t++) {
                assertLogitsClose(want[t], batch, t * config.vocabSize(), label + " position " + t);
            }
            s.reset();
            assertLogitsClose(want[ids.length - 1], s.prefill(ids), 0, label + " last position alone");
        }
    }

    static Stream<Arguments> wideShapes() {
        return Stream.of(
                Arguments.of("nemotron, squared relu", nemotron(64, 512, 1024, 1, 4, 2, 128, 0.5)),
                Arguments.of("llama, swiglu", llama(64, 512, 1024, 1, 4, 2, 128, null, false)));
    }

    @Test
    void twoTensorParallelRanksComputeTheSameLogitsAsOne() throws Exception {
        ModelConfig config = nemotron(173, 48, 96, 2, 8, 2, 12, 0.5);
        Path dir = RandomCheckpoint.write(tmp.resolve("tp"), config, DType.BF16, 21);
        int[] ids = randomIds(config.vocabSize(), 12, 5);
        float[][] single;
        float[] singleLast;
        try (NemotronModel m = NemotronModel.load(dir, LoadOptions.defaults().withThreads(1));
             InferenceSession s = m.newSession()) {
            single = m.logitsAll(ids);
            singleLast = s.prefill(ids);
        }
        List<Collective> ranks = LocalCollective.group(2);
        ExecutorService ex = Executors.newFixedThreadPool(2);
        try {
            List<Future<float[][]>> outs = new ArrayList<>();
            for (Collective c : ranks) {
                outs.add(ex.submit(() -> {
                    try (NemotronModel m = NemotronModel.load(dir, LoadOptions.defaults().withThreads(1).withCollective(c))) {
                        // the warm-up's passes run collectives: the ranks must run as many of them, in step
                        m.warmUpKernels();
                        float[][] all = m.logitsAll(ids);
                        try (InferenceSession s = m.newSession()) {
                            float[][] withLast = java.util.Arrays.copyOf(all, all.length + 1);
                            withLast[all.length] = s.prefill(ids);   // the last layer for the last token alone
                            return withLast;
                        }
                    }
                }));
            }
            for (Future<float[][]> f : outs) {
                float[][] got = f.get(120, java.util.concurrent.TimeUnit.SECONDS);
                for (int t = 0; t < ids.length; t++) assertLogitsClose(single[t], got[t], 0, "tp rank position " + t);
                assertLogitsClose(singleLast, got[ids.length], 0, "tp rank, last position alone");
            }
        } finally {
            ex.shutdownNow();
        }
    }

    static int[] randomIds(int vocab, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = r.nextInt(vocab);
        return ids;
    }
}
