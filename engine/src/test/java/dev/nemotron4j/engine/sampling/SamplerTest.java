package dev.nemotron4j.engine.sampling;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sampler's distributions on fixed logits, against the probabilities each rule implies. */
class SamplerTest {
    /** probabilities 0.4, 0.3, 0.15, 0.1, 0.05 (as logits) */
    static final float[] LOGITS = logits(0.4, 0.3, 0.15, 0.1, 0.05);
    static final int N = 40_000;

    static float[] logits(double... p) {
        float[] l = new float[p.length];
        for (int i = 0; i < p.length; i++) l[i] = (float) Math.log(p[i]);
        return l;
    }

    static double[] frequencies(SamplingParams params, float[] logits, int[] context) {
        return frequencies(params, logits, context, N);
    }

    static double[] frequencies(SamplingParams params, float[] logits, int[] context, int draws) {
        Sampler s = new Sampler(params);
        double[] f = new double[logits.length];
        for (int i = 0; i < draws; i++) f[s.sample(logits, logits.length, context, context.length, new int[0])]++;
        for (int i = 0; i < f.length; i++) f[i] /= draws;
        return f;
    }

    static void assertDistribution(double[] want, double[] got) {
        for (int i = 0; i < want.length; i++) {
            double sigma = Math.sqrt(Math.max(want[i] * (1 - want[i]), 1e-9) / N);
            assertEquals(want[i], got[i], 5 * sigma + 1e-9, "token " + i + " frequency");
        }
    }

    static SamplingParams plain() {
        return SamplingParams.defaults().withTemperature(1).withTopK(0).withTopP(1).withMinP(0).withSeed(7);
    }

    @Test
    void temperatureOneReproducesTheSoftmax() {
        assertDistribution(new double[]{0.4, 0.3, 0.15, 0.1, 0.05}, frequencies(plain(), LOGITS, new int[0]));
    }

    @Test
    void temperatureSharpensAndFlattens() {
        double[] p = {0.4, 0.3, 0.15, 0.1, 0.05};
        for (double t : new double[]{0.5, 2.0}) {
            double[] want = new double[p.length];
            double z = 0;
            for (int i = 0; i < p.length; i++) z += want[i] = Math.pow(p[i], 1 / t);
            for (int i = 0; i < p.length; i++) want[i] /= z;
            assertDistribution(want, frequencies(plain().withTemperature(t), LOGITS, new int[0]));
        }
    }

    @Test
    void topKKeepsTheKMostLikelyRenormalised() {
        assertDistribution(new double[]{0.4 / 0.7, 0.3 / 0.7, 0, 0, 0}, frequencies(plain().withTopK(2), LOGITS, new int[0]));
    }

    /**
     * Top-k over a large vocabulary (the vectorised scan where no id is excluded, the listed one where one is): ties
     * go to the lower id, as in the small case.
     */
    @Test
    void topKOverALargeVocabularyBreaksTiesByTheLowerId() {
        float[] logits = new float[1003];
        java.util.Arrays.fill(logits, 1f);
        logits[500] = 2f;
        logits[700] = 2f;
        for (boolean excludeOne : new boolean[]{false, true}) {
            int[] forbidden = excludeOne ? new int[]{1002} : new int[0];
            Sampler s = new Sampler(plain().withTopK(3).withSeed(9));
            java.util.Set<Integer> picked = new java.util.TreeSet<>();
            for (int i = 0; i < 300; i++) picked.add(s.sample(logits, logits.length, new int[0], 0, forbidden));
            assertEquals(java.util.Set.of(0, 500, 700), picked, excludeOne ? "one id excluded" : "every id a candidate");
        }
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // cumulative 0.4, 0.7, 0.85: p = 0.8 keeps three tokens
        assertDistribution(new double[]{0.4 / 0.85, 0.3 / 0.85, 0.15 / 0.85, 0, 0}, frequencies(plain().withTopP(0.8), LOGITS, new int[0]));
        // the first token is always kept
        assertDistribution(new double[]{1, 0, 0, 0, 0}, frequencies(plain().withTopP(0.01), LOGITS, new int[0]));
    }

    @Test
    void minPDropsTokensFarBelowTheBest() {
        // 0.3 × 0.4 = 0.12: keeps 0.4, 0.3, 0.15
        assertDistribution(new double[]{0.4 / 0.85, 0.3 / 0.85, 0.15 / 0.85, 0, 0}, frequencies(plain().withMinP(0.3), LOGITS, new int[0]));
    }

    @Test
    void topPOnALargeVocabularyMatchesTheExactNucleus() {
        // 50k tokens: a head of 3 likely ones and a long flat tail holding 20% of the mass
        int v = 50_000;
        float[] l = new float[v];
        double tail = 0.2 / (v - 3);
        for (int i = 0; i < v; i++) l[i] = (float) Math.log(tail);
        l[10] = (float) Math.log(0.5);
        l[20] = (float) Math.log(0.2);
        l[30] = (float) Math.log(0.1);
        double[] f = frequencies(plain().withTopP(0.75), l, new int[0], 3000);
        // 0.5 + 0.2 = 0.7 < 0.75 so the third (0.1) is needed, and nothing from the tail
        assertEquals(0.5 / 0.8, f[10], 0.05);
        assertEquals(0.2 / 0.8, f[20], 0.05);
        assertEquals(0.1 / 0.8, f[30], 0.05);
        assertEquals(1.0, f[10] + f[20] + f[30], 1e-12);
    }

    @Test
    void repetitionPenaltyDividesTheLogitsOfSeenTokensAsNemoDoes() {
        float[] l = {2f, 2f, -1f};
        // token 0 seen: logit 2 → 1; token 2 seen: -1 → -0.5 (NeMo divides whatever the sign)
        double[] f = frequencies(plain().withRepetitionPenalty(2), l, new int[]{0, 2, 0});
        double z = Math.exp(1) + Math.exp(2) + Math.exp(-0.5);
        assertDistribution(new double[]{Math.exp(1) / z, Math.exp(2) / z, Math.exp(-0.5) / z}, f);
    }

    @Test
    void greedyIgnoresTheRestAndForbiddenIdsAreNeverChosen() {
        Sampler g = new Sampler(SamplingParams.greedy(1).withTopK(1).withRepetitionPenalty(5));
        assertEquals(0, g.sample(LOGITS, 5, new int[]{0}, 1, new int[0]));
        assertEquals(1, g.sample(LOGITS, 5, new int[0], 0, new int[]{0}));
        double[] f = frequencies(plain(), LOGITS, new int[0]);
        Sampler s = new Sampler(plain());
        for (int i = 0; i < 2000; i++) assertNotEquals(0, s.sample(LOGITS, 5, new int[0], 0, new int[]{0}));
        assertTrue(f[0] > 0.3);
    }

    @Test
    void theSameSeedGivesTheSameTokensAndAnotherSeedOthers() {
        float[] l = new float[1000];
        for (int i = 0; i < l.length; i++) l[i] = (float) Math.sin(i);
        int[] a = draws(plain().withSeed(42), l), b = draws(plain().withSeed(42), l), c = draws(plain().withSeed(43), l);
        org.junit.jupiter.api.Assertions.assertArrayEquals(a, b);
        assertTrue(!java.util.Arrays.equals(a, c));
    }

    static int[] draws(SamplingParams p, float[] l) {
        Sampler s = new Sampler(p);
        int[] out = new int[50];
        for (int i = 0; i < out.length; i++) out[i] = s.sample(l, l.length, new int[0], 0, new int[0]);
        return out;
    }

    @Test
    void nonsensicalParametersAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> plain().withTemperature(-1));
        assertThrows(IllegalArgumentException.class, () -> plain().withTopP(0));
        assertThrows(IllegalArgumentException.class, () -> plain().withTopP(1.5));
        assertThrows(IllegalArgumentException.class, () -> plain().withMinP(2));
        assertThrows(IllegalArgumentException.class, () -> plain().withTopK(-3));
        assertThrows(IllegalArgumentException.class, () -> plain().withRepetitionPenalty(0));
        assertThrows(IllegalArgumentException.class, () -> plain().withStopStrings(List.of("")));
        assertEquals(Set.of(), plain().stopTokenIds());
    }

    @Test
    void logprobIsTheLogSoftmax() {
        assertEquals(Math.log(0.3), Sampler.logprob(LOGITS, 5, 1), 1e-6);
    }
}
