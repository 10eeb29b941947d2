package dev.nemotron4j.engine.sampling;

import dev.nemotron4j.engine.generate.Greedy;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits, in NeMo's order: forbid end tokens before min-tokens → greedy argmax, or
 * temperature → repetition penalty → top-k → top-p → min-p → softmax → a draw from this sampler's own seeded
 * generator. One sampler per generation; it is stateful (its random stream) and not thread-safe.
 */
public final class Sampler {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private final SamplingParams p;
    private final SplittableRandom random;
    private float[] work = new float[0];
    private int[] order = new int[0];
    private double[] probs = new double[0];
    private boolean[] seen = new boolean[0];

    public Sampler(SamplingParams params) {
        this.p = params;
        this.random = new SplittableRandom(params.seed());
    }

    public SamplingParams params() {
        return p;
    }

    /**
     * @param logits    raw next-token logits (not modified)
     * @param vocab     how many leading entries are real tokens
     * @param context   every token id in the context so far (prompt and generated), for the repetition penalty
     * @param contextLength how many entries of {@code context} are valid
     * @param forbidden ids that must not be chosen now (end tokens before min-tokens), may be empty
     */
    public int sample(float[] logits, int vocab, int[] context, int contextLength, int[] forbidden) {
        if (work.length < vocab) { // scratch reused from token to token: nothing vocabulary-sized is allocated per step
            work = new float[vocab];
            order = new int[vocab];
            probs = new double[vocab];
            seen = new boolean[vocab];
        }
        float[] w = work;
        System.arraycopy(logits, 0, w, 0, vocab);
        for (int id : forbidden) if (id >= 0 && id < vocab) w[id] = Float.NEGATIVE_INFINITY;
        if (p.isGreedy()) return Greedy.argmax(w, 0, vocab);

        float invT = (float) (1 / p.temperature());
        for (int i = 0; i < vocab; i++) w[i] *= invT;
        if (p.repetitionPenalty() != 1) {
            float pen = (float) p.repetitionPenalty();
            for (int i = 0; i < contextLength; i++) {
                int id = context[i];
                if (id >= 0 && id < vocab && !seen[id]) {
                    seen[id] = true;
                    w[id] /= pen; // NeMo divides, whatever the sign
                }
            }
            for (int i = 0; i < contextLength; i++) if (context[i] >= 0 && context[i] < vocab) seen[context[i]] = false;
        }
        // candidates: every token not already at -inf; their largest value, 16 at a time (the same as a Math.max
        // chain, NaN included); their ids listed only where some are at -inf or a path below reads the list
        int excluded = 0, c = 0;
        FloatVector m0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), m1 = m0;
        for (int end = vocab - vocab % (2 * F.length()); c < end; c += 2 * F.length()) {
            FloatVector va = FloatVector.fromArray(F, w, c), vb = FloatVector.fromArray(F, w, c + F.length());
            m0 = m0.max(va);
            m1 = m1.max(vb);
            excluded += va.compare(VectorOperators.EQ, Float.NEGATIVE_INFINITY).trueCount()
                    + vb.compare(VectorOperators.EQ, Float.NEGATIVE_INFINITY).trueCount();
        }
        float max = m0.max(m1).reduceLanes(VectorOperators.MAX);
        for (; c < vocab; c++) {
            max = Math.max(max, w[c]);
            if (w[c] == Float.NEGATIVE_INFINITY) excluded++;
        }
        int n = vocab - excluded;
        if (n == 0) return Greedy.argmax(logits, 0, vocab);
        boolean truncates = p.topP() < 1 || p.minP() > 0;
        double all = -1; // the mass top-p is measured against: all candidates, or the top-k after renormalising
        if (excluded == 0 && p.topK() > 0 && p.topK() < n && p.topK() <= TOP_WINDOW) {
            n = keepTopOfAll(w, vocab, order, p.topK());
        } else {
            n = 0;
            for (int id = 0; id < vocab; id++) if (w[id] != Float.NEGATIVE_INFINITY) order[n++] = id;
            if (p.topK() > 0 && p.topK() < n) {
                n = keepTop(w, order, n, p.topK());
            } else if (truncates) {
                all = 0;
                for (int i = 0; i < n; i++) all += Math.exp(w[order[i]] - max);
                n = sortedNucleus(w, order, n, max, all);
            }
        }
        double[] probs = this.probs;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            probs[i] = Math.exp(w[order[i]] - max);
            sum += probs[i];
        }
        if (all > 0) sum = all;
        int keep = n;
        if (p.topP() < 1) { // order[] is sorted here, most likely first
            double cum = 0;
            for (int i = 0; i < n; i++) {
                cum += probs[i] / sum;
                if (cum >= p.topP()) {
                    keep = i + 1;
                    break;
                }
            }
        }
        if (p.minP() > 0) {
            double floor = p.minP() * probs[0];
            int k = 1;
            while (k < keep && probs[k] >= floor) k++;
            keep = k;
        }
        double total = 0;
        for (int i = 0; i < keep; i++) total += probs[i];
        double r = random.nextDouble() * total;
        for (int i = 0; i < keep; i++) {
            r -= probs[i];
            if (r < 0) return order[i];
        }
        return order[keep - 1];
    }

    /**
     * For top-p / min-p without top-k: sorts, most likely first, only the tokens above a logit threshold low enough
     * that they hold the top-p mass (and everything min-p could keep). Exact: whatever lies below the threshold
     * would come after them in sorted order and be cut anyway. Returns the candidate count.
     */
    private int sortedNucleus(float[] w, int[] order, int n, float max, double total) {
        double need = p.topP() < 1 ? p.topP() * total : Double.POSITIVE_INFINITY;
        double minPGap = p.minP() > 0 ? Math.log(p.minP()) : Double.NEGATIVE_INFINITY;
        for (double gap : new double[]{-4, -8, -16, -32, Double.NEGATIVE_INFINITY}) {
            double threshold = max + Math.max(gap, minPGap);
            int m = 0;
            double mass = 0;
            for (int i = 0; i < n; i++) {
                if (w[order[i]] >= threshold) mass += Math.exp(w[order[i]] - max);
            }
            if (mass >= need || gap == Double.NEGATIVE_INFINITY || threshold == max + minPGap) {
                int[] picked = new int[n];
                for (int i = 0; i < n; i++) if (w[order[i]] >= threshold) picked[m++] = order[i];
                System.arraycopy(picked, 0, order, 0, m);
                return keepTop(w, order, m, m);
            }
        }
        throw new AssertionError("unreachable");
    }

    /** Largest top-k taken with a sorted window rather than a sort (see {@link #keepTop}). */
    private static final int TOP_WINDOW = 256;

    /**
     * As {@link #keepTop} when every id in {@code [0, vocab)} is a candidate: the ids go by in increasing order, so a
     * later id beats the window's last only with a strictly larger value, and 16 values at a time are compared with
     * that bound first; only the few above it (≈ k·ln(vocab/k) of them) go through the window. A 256000-token
     * vocabulary took ≈ 0.7 ms per sampled token through {@link #keepTop}'s indirect scan (bench/NOTES.md, step 45).
     */
    private static int keepTopOfAll(float[] w, int vocab, int[] order, int k) {
        int[] top = new int[k];
        int size = 0, len = F.length();
        float bound = Float.NEGATIVE_INFINITY; // below or at it nothing gets in, once the window is full
        for (int i = 0; i < vocab; i += len) {
            int end = Math.min(vocab, i + len);
            // a whole vector with nothing above the bound is skipped at once (the last, partial one is not tested)
            if (size == k && end - i == len
                    && !FloatVector.fromArray(F, w, i).compare(VectorOperators.GT, bound).anyTrue()) continue;
            for (int j = i; j < end; j++) {
                if (size == k && !(w[j] > bound)) continue;
                size = insert(w, top, size, k, j);
                if (size == k) bound = w[top[k - 1]];
            }
        }
        System.arraycopy(top, 0, order, 0, size);
        return size;
    }

    /** Puts {@code id} into the sorted window {@code top[0..size)} (at most {@code k}); returns the new size. */
    private static int insert(float[] w, int[] top, int size, int k, int id) {
        int j = size < k ? size++ : k - 1;
        while (j > 0 && better(w, id, top[j - 1])) {
            top[j] = top[j - 1];
            j--;
        }
        top[j] = id;
        return size;
    }

    /** Sorts the {@code k} largest of {@code w[order[0..n)]} to the front, most likely first (ties: lower id). */
    private static int keepTop(float[] w, int[] order, int n, int k) {
        if (k <= TOP_WINDOW && k < n) { // small k: one pass with a sorted window
            int size = 0;
            int[] top = new int[k];
            for (int i = 0; i < n; i++) {
                int id = order[i];
                if (size == k && !better(w, id, top[k - 1])) continue;
                size = insert(w, top, size, k, id);
            }
            System.arraycopy(top, 0, order, 0, k);
            return k;
        }
        Integer[] boxed = new Integer[n];
        for (int i = 0; i < n; i++) boxed[i] = order[i];
        Arrays.sort(boxed, (a, b) -> better(w, a, b) ? -1 : better(w, b, a) ? 1 : 0);
        for (int i = 0; i < k; i++) order[i] = boxed[i];
        return k;
    }

    private static boolean better(float[] w, int a, int b) {
        return w[a] > w[b] || (w[a] == w[b] && a < b);
    }

    /** log softmax(logits)[id], in double. */
    public static float logprob(float[] logits, int vocab, int id) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, logits[i]);
        double sum = 0;
        for (int i = 0; i < vocab; i++) sum += Math.exp(logits[i] - max);
        return (float) (logits[id] - max - Math.log(sum));
    }
}
