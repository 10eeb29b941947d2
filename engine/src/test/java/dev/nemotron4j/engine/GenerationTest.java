package dev.nemotron4j.engine;

import dev.nemotron4j.engine.generate.GeneratedToken;
import dev.nemotron4j.engine.generate.GenerationResult;
import dev.nemotron4j.engine.generate.StopReason;
import dev.nemotron4j.engine.sampling.SamplingParams;
import dev.nemotron4j.engine.testing.Fixtures;
import dev.nemotron4j.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sampling, streaming text and stop handling end to end on the f32 fixture and its tokenizer. */
class GenerationTest {
    static NemotronModel model;
    static Tokenizer tok;
    static final int[] PROMPT = {639, 943, 654, 945, 963, 284, 277, 577};

    @BeforeAll
    static void load() {
        model = NemotronModel.load(Fixtures.path("nemotron-gqa-f32/hf"), LoadOptions.defaults().withThreads(2));
        tok = ModelTokenizers.require(model.checkpoint());
    }

    @AfterAll
    static void close() {
        tok.close();
        model.close();
    }

    static GenerationResult run(SamplingParams p, List<GeneratedToken> seen) {
        return model.generate(PROMPT, p, tok, t -> {
            seen.add(t);
            return true;
        });
    }

    @Test
    void prefillFlopsCountEveryMultiplyAddOfThePromptAsItRuns() {
        var c = model.config();
        long h = c.hiddenSize(), ffn = c.intermediateSize(), layers = c.numLayers();
        long qkv = (long) (c.qDim() + 2 * c.kvDim()) * h, rest = (long) c.qDim() * h + (c.activation().gated() ? 3 : 2) * h * ffn;
        long perQuery = 2L * 2 * c.numHeads() * c.headDim();   // q·k and p·v per position seen
        // 5 tokens after 3 cached: every layer's q|k|v for all five; attention, o and the MLP for all five but in the
        // last layer (the last token only); the output layer once
        long attnAll = perQuery * (4 + 5 + 6 + 7 + 8);
        long want = layers * 2 * 5 * qkv + (layers - 1) * (2 * 5 * rest + attnAll) + 2 * rest + perQuery * 8
                + 2L * c.vocabSize() * h;
        assertEquals(want, model.prefillFlops(5, 3));
        // batch by batch as a session runs a long prompt: 300 tokens are a batch of 256 and one of 44
        assertEquals(model.prefillFlops(256, 0) + model.prefillFlops(44, 256), model.prefillFlops(300, 0));
        assertTrue(model.prefillFlops(300, 0) > model.prefillFlops(256, 0) + model.prefillFlops(44, 0), "later positions attend more");
    }

    @Test
    void streamedTextConcatenatesToTheResultAndTheDecodedTokens() {
        List<GeneratedToken> seen = new ArrayList<>();
        GenerationResult r = run(SamplingParams.defaults().withSeed(3).withMaxTokens(40), seen);
        String streamed = seen.stream().map(GeneratedToken::text).collect(Collectors.joining());
        assertEquals(r.text(), streamed);
        // the reply continues the prompt: decoded together with it, minus the prompt's own text
        int[] all = java.util.Arrays.copyOf(PROMPT, PROMPT.length + r.tokenIds().length);
        System.arraycopy(r.tokenIds(), 0, all, PROMPT.length, r.tokenIds().length);
        assertEquals(tok.decode(all), tok.decode(PROMPT) + r.text());
        assertEquals(StopReason.MAX_TOKENS, r.stopReason());
        assertEquals(40, r.tokenIds().length);
    }

    @Test
    void warmingUpTheKernelsLeavesNoTraceInLaterResults() {
        SamplingParams p = SamplingParams.defaults().withSeed(5).withMaxTokens(12);
        GenerationResult before = run(p, new ArrayList<>());
        float[][] logits = model.logitsAll(PROMPT);
        model.warmUpKernels();
        assertArrayEquals(before.tokenIds(), run(p, new ArrayList<>()).tokenIds());
        float[][] again = model.logitsAll(PROMPT);
        // not bit for bit: the Vector API leaves the order of a lane reduction open, and the interpreter's order (before
        // the warm-up, on a cold JVM) differs from C2's (after it) in the last bits; a trace left in the caches would
        // move logits by far more than this
        for (int t = 0; t < logits.length; t++) {
            float scale = 0;
            for (float v : logits[t]) scale = Math.max(scale, Math.abs(v));
            assertArrayEquals(logits[t], again[t], 1e-5f * Math.max(1, scale), "position " + t);
        }
    }

    @Test
    void warmingUpRepliesRunsScratchRepliesAndLeavesNoTraceInLaterResults() {
        SamplingParams p = SamplingParams.defaults().withSeed(9).withMaxTokens(20).withMinTokens(18).withStopStrings(List.of("zzz"));
        GenerationResult before = run(p, new ArrayList<>());
        int scratch = model.warmUpReplies(tok, p);
        // at least one scratch reply; each of at most 16 tokens, at most three of them
        assertTrue(scratch >= 1 && scratch <= 48, scratch + " scratch tokens");
        GenerationResult after = run(p, new ArrayList<>());
        assertArrayEquals(before.tokenIds(), after.tokenIds());
        assertEquals(before.text(), after.text());
        // without a tokenizer too, from token ids alone
        assertTrue(model.warmUpReplies(null, SamplingParams.greedy(5)) >= 1);
    }

    @Test
    void aWarmUpAskedToStopEndsAtItsNextCheck() {
        for (int k : new int[]{1, 3}) {
            int[] asked = {0};
            model.warmUpKernels(() -> ++asked[0] >= k);
            // once told to stop it returns without asking again (a warm-up ignoring the answer asks once per pass)
            assertEquals(k, asked[0], "stop after check " + k);
        }
        int[] asked = {0};
        assertEquals(0, model.warmUpReplies(tok, SamplingParams.defaults(), () -> ++asked[0] >= 1));
        assertEquals(1, asked[0]);
        // and the model is as it was
        SamplingParams p = SamplingParams.defaults().withSeed(5).withMaxTokens(6);
        assertArrayEquals(run(p, new ArrayList<>()).tokenIds(), run(p, new ArrayList<>()).tokenIds());
    }

    @Test
    void warmingUpRepliesFitsAContextShorterThanItsPrompt() {
        try (NemotronModel small = NemotronModel.load(Fixtures.path("nemotron-gqa-f32/hf"),
                LoadOptions.defaults().withThreads(1).withContextLength(4))) {
            int scratch = small.warmUpReplies(tok, SamplingParams.defaults());
            // three tokens of room after a one-token prompt, per reply
            assertTrue(scratch >= 1 && scratch <= 9, scratch + " scratch tokens");
        }
    }

    @Test
    void sameSeedSameTokensOtherSeedOtherTokens() {
        SamplingParams p = SamplingParams.defaults().withTemperature(1.2).withTopK(0).withTopP(0.95).withSeed(11).withMaxTokens(30);
        GenerationResult a = run(p, new ArrayList<>()), b = run(p, new ArrayList<>()), c = run(p.withSeed(12), new ArrayList<>());
        assertArrayEquals(a.tokenIds(), b.tokenIds());
        assertFalse(java.util.Arrays.equals(a.tokenIds(), c.tokenIds()));
    }

    @Test
    void aStopStringAcrossTokenBoundariesEndsTheTextAndIsNeverStreamed() {
        GenerationResult free = run(SamplingParams.greedy(24), new ArrayList<>());
        // a stop string made of the end of one token's text and the start of the next
        String first = tok.decode(new int[]{free.tokenIds()[5]}), second = tok.decode(new int[]{free.tokenIds()[6]});
        String before = tok.decode(java.util.Arrays.copyOf(free.tokenIds(), 5));
        String stop = first.substring(first.length() - 1) + second.substring(0, 1);
        int at = free.text().indexOf(stop);
        assertTrue(at >= 0 && at <= before.length() + first.length(), "stop string occurs at the boundary: " + at);

        List<GeneratedToken> seen = new ArrayList<>();
        GenerationResult r = run(SamplingParams.greedy(24).withStopStrings(List.of("zzz-never", stop)), seen);
        assertEquals(StopReason.STOP, r.stopReason());
        assertEquals(free.text().substring(0, at), r.text());
        String streamed = seen.stream().map(GeneratedToken::text).collect(Collectors.joining());
        assertEquals(r.text(), streamed);
        assertFalse(streamed.contains(stop));
    }

    @Test
    void minTokensForbidsEndTokensAndStopIdsEndTheTurn() {
        GenerationResult free = run(SamplingParams.greedy(12), new ArrayList<>());
        int third = free.tokenIds()[2];
        GenerationResult stopped = run(SamplingParams.greedy(12).withStopTokenIds(Set.of(third)), new ArrayList<>());
        assertEquals(StopReason.STOP, stopped.stopReason());
        assertArrayEquals(java.util.Arrays.copyOf(free.tokenIds(), 3), stopped.tokenIds());
        assertTrue(free.text().startsWith(stopped.text()) && !stopped.text().isEmpty(), stopped.text());
        GenerationResult held = run(SamplingParams.greedy(12).withStopTokenIds(Set.of(third)).withMinTokens(5), new ArrayList<>());
        for (int i = 0; i < 5; i++) assertTrue(held.tokenIds()[i] != third, "stop id forbidden before min tokens");
    }

    @Test
    void logprobsAreReportedPerToken() {
        GenerationResult r = run(SamplingParams.greedy(5).withLogprobs(true), new ArrayList<>());
        assertEquals(5, r.logprobs().length);
        for (float lp : r.logprobs()) assertTrue(lp <= 0 && lp > -20, "logprob " + lp);
        float[] first = model.logitsAll(PROMPT)[PROMPT.length - 1];
        assertEquals(dev.nemotron4j.engine.sampling.Sampler.logprob(first, first.length, r.tokenIds()[0]), r.logprobs()[0], 1e-5);
    }

    @Test
    void theStreamViewIsLazyAndMatchesTheCallbackView() {
        try (InferenceSession s = model.newSession()) {
            List<Integer> ids = model.stream(s, PROMPT, SamplingParams.greedy(10), tok).map(GeneratedToken::id).limit(10).toList();
            GenerationResult r = run(SamplingParams.greedy(10), new ArrayList<>());
            assertEquals(ids, java.util.Arrays.stream(r.tokenIds()).boxed().toList());
        }
    }
}
