package dev.nemotron4j.engine;

import dev.nemotron4j.engine.model.Decoder;
import dev.nemotron4j.engine.model.KvCache;

import java.util.Arrays;

/**
 * One conversation's state: a KV cache and the tokens it holds. Feed tokens with {@link #prefill} (a batch)
 * or {@link #decode} (one); each returns next-token logits. Not thread-safe; use one session per thread.
 */
public final class InferenceSession implements AutoCloseable {
    private final Decoder decoder;
    private final KvCache cache;
    private final Decoder.ForwardBuffers buffers;
    private final int prefillBatch;
    private int[] tokens = new int[64];
    private int length;

    InferenceSession(Decoder decoder, int capacity, int threads, int prefillBatch) {
        this.decoder = decoder;
        this.cache = decoder.newCache(capacity);
        this.buffers = new Decoder.ForwardBuffers(decoder.config(), decoder.plan(), threads);
        this.prefillBatch = prefillBatch;
    }

    /** Tokens in the cache so far (the next token goes at this position). */
    public int position() {
        return length;
    }

    public int contextLength() {
        return cache.capacity();
    }

    /** The tokens the cache holds, oldest first. */
    public int[] tokens() {
        return Arrays.copyOf(tokens, length);
    }

    /** Appends {@code ids} and returns the logits after the last of them. */
    public float[] prefill(int[] ids) {
        return run(ids, false);
    }

    /** Appends {@code ids} and returns the logits after each of them, row-major {@code [ids.length, vocab]}. */
    public float[] prefillAll(int[] ids) {
        return run(ids, true);
    }

    /** Appends one token and returns the next-token logits. */
    public float[] decode(int id) {
        return run(new int[]{id}, false);
    }

    /**
     * Runs {@code ids} (at most the capacity) from position 0 through the first {@code layers} layers and forgets them:
     * for the warm-up of {@link NemotronModel#warmUpKernels}.
     */
    void warmUpLayers(int[] ids, int layers) {
        decoder.forward(ids, 0, ids.length, 0, cache, buffers, false, layers);
        length = 0;
    }

    /** Forgets everything (keeps the allocated cache). */
    public void reset() {
        length = 0;
    }

    /** Keeps the first {@code n} tokens and forgets the rest, so a shared prefix need not be recomputed. */
    public void truncate(int n) {
        if (n < 0 || n > length) throw new IllegalArgumentException("cannot truncate " + length + " tokens to " + n);
        length = n;
    }

    private float[] run(int[] ids, boolean all) {
        if (ids.length == 0) throw new IllegalArgumentException("no tokens to run");
        if (length + ids.length > cache.capacity()) {
            throw new ContextOverflowException(length + ids.length, cache.capacity());
        }
        int vocab = decoder.config().vocabSize();
        float[] allLogits = all ? new float[ids.length * vocab] : null;
        float[] last = null;
        for (int from = 0; from < ids.length; from += prefillBatch) {
            int n = Math.min(prefillBatch, ids.length - from);
            float[] out = decoder.forward(ids, from, n, length, cache, buffers, all);
            if (all) System.arraycopy(out, 0, allLogits, from * vocab, n * vocab);
            else last = out;
            append(ids, from, n);
        }
        return all ? allLogits : last;
    }

    private void append(int[] ids, int from, int n) {
        if (length + n > tokens.length) tokens = Arrays.copyOf(tokens, Math.max(length + n, tokens.length * 2));
        System.arraycopy(ids, from, tokens, length, n);
        length += n;
    }

    @Override
    public void close() {
        cache.close();
    }
}
