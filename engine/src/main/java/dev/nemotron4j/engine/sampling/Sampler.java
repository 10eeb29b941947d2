package dev.nemotron4j.engine.sampling;

import dev.nemotron4j.engine.generate.Greedy;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits, in NeMo's order: forbid end tokens before min-tokens → greedy argmax, or
 * temperature → repetition penalty → top-k → top-p → min-p → softmax → a draw from this sampler's own seeded
 * generator. One sampler per generation; it is stateful (its random stream) and not thread-safe.
 */
public final class Sampler {
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
        // candidates: every token not already at -inf
        int n = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            if (w[i] != Float.NEGATIVE_INFINITY) {
                order[n++] = i;
                max = Math.max(max, w[i]);
            }
        }
        if (n == 0) return Greedy.argmax(logits, 0, vocab);
        boolean truncates = p.topP() < 1 || p.minP() > 0;
        double all = -1; // the mass top-p is measured against: all candidates, or the top-k after renormalising
        if (p.topK() > 0 && p.topK() < n) {
            n = keepTop(w, order, n, p.topK());
        } else if (truncates) {
            all = 0;
            for (int i = 0; i < n; i++) all += Math.exp(w[order[i]] - max);
            n = sortedNucleus(w, order, n, max, all);
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

    /** Sorts the {@code k} largest of {@code w[order[0..n)]} to the front, most likely first (ties: lower id). */
    private static int keepTop(float[] w, int[] order, int n, int k) {
        if (k <= 256 && k < n) { // small k: one pass with a sorted window
            int size = 0;
            int[] top = new int[k];
            for (int i = 0; i < n; i++) {
                int id = order[i];
                if (size == k && !better(w, id, top[k - 1])) continue;
                int j = size < k ? size++ : k - 1;
                while (j > 0 && better(w, id, top[j - 1])) {
                    top[j] = top[j - 1];
                    j--;
                }
                top[j] = id;
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
