package dev.nemotron4j.engine.model;

import dev.nemotron4j.engine.kernels.Activations;
import dev.nemotron4j.engine.kernels.Attention;
import dev.nemotron4j.engine.kernels.MatMul;
import dev.nemotron4j.engine.kernels.RotaryEmbedding;
import dev.nemotron4j.engine.kernels.WeightMatrix;
import dev.nemotron4j.engine.kernels.WorkerPool;
import dev.nemotron4j.engine.parallel.Collective;
import dev.nemotron4j.engine.parallel.ShardPlan;
import dev.nemotron4j.loader.config.ModelConfig;

import java.util.List;

/**
 * The decoder-only transformer, both families. Per layer, for a batch of T consecutive tokens:
 *
 * <pre>
 *   a   = norm_attn(x)
 *   q,k,v = Wqkv · a                 (this rank's heads)
 *   q,k = rope(q, k, position)        (first rotaryDim dims of each head, rotate-half)
 *   cache[position] = k, v
 *   x  += allreduce(Wo · attention(q, cache))
 *   m   = norm_mlp(x)
 *   x  += allreduce(Wdown · act(Wup · m [, Wgate · m]))
 * logits = Wlm · norm_final(x)
 * </pre>
 *
 * When only the last token's logits are asked for, the last layer carries only that token on after its cache stores
 * (attention, Wo and the MLP for one token, not T: the others' outputs are never read).
 *
 * Stateless apart from its weights: the KV cache and scratch buffers belong to the caller's session.
 */
public final class Decoder {
    private final ModelConfig config;
    private final ModelWeights weights;
    private final ShardPlan plan;
    private final Collective collective;
    private final WorkerPool pool;
    private final RotaryEmbedding rope;
    private final float attnScale;

    public Decoder(ModelConfig config, ModelWeights weights, ShardPlan plan, Collective collective, WorkerPool pool) {
        this.config = config;
        this.weights = weights;
        this.plan = plan;
        this.collective = collective;
        this.pool = pool;
        this.rope = new RotaryEmbedding(config.rotaryDim(), config.ropeTheta(), config.ropeScaling(), config.ropeInterleaved());
        this.attnScale = (float) (1.0 / Math.sqrt(config.headDim()));
    }

    public ModelConfig config() {
        return config;
    }

    public ShardPlan plan() {
        return plan;
    }

    public ModelWeights weights() {
        return weights;
    }

    public KvCache newCache(int capacity) {
        return new KvCache(config.numLayers(), plan.kvHeads(), config.headDim(), capacity);
    }

    /**
     * Runs {@code count} tokens from {@code tokens[from]} at positions {@code start, start+1, …}, appending their
     * keys and values to the cache. Returns the logits of every one of them ({@code allPositions}), row-major
     * {@code [count, vocab]}, or of the last only ({@code [vocab]}).
     */
    public float[] forward(int[] tokens, int from, int count, int start, KvCache cache, ForwardBuffers buf,
                           boolean allPositions) {
        return forward(tokens, from, count, start, cache, buf, allPositions, Integer.MAX_VALUE);
    }

    /**
     * As {@link #forward(int[], int, int, int, KvCache, ForwardBuffers, boolean)} through the first {@code layerCount}
     * layers only, returning null (no logits) when that is fewer than all: a warm-up runs long prompts this way
     * through a layer or two, so that every prefill step gets compiled at little cost on any size of model.
     */
    public float[] forward(int[] tokens, int from, int count, int start, KvCache cache, ForwardBuffers buf,
                           boolean allPositions, int layerCount) {
        if (start + count > cache.capacity()) {
            throw new IllegalArgumentException("positions up to " + (start + count) + " exceed the KV cache capacity "
                    + cache.capacity());
        }
        int h = config.hiddenSize(), qkvDim = (plan.heads() + 2 * plan.kvHeads()) * config.headDim();
        int T = count;
        buf.ensure(T);

        for (int t = 0; t < T; t++) {
            int id = tokens[from + t];
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
            weights.embedding().readRow(id, buf.x, t * h);
            rope.angles(start + t, buf.cos, buf.sin, t * (rope.rotaryDim() / 2));
        }

        int layers = weights.layers().size(), n = T, run = Math.min(layers, layerCount);
        for (int l = 0; l < run; l++) {
            LayerWeights lw = weights.layers().get(l);
            normTokens(lw.attnNorm(), buf.x, buf.a, n);
            MatMul.apply(lw.qkv(), buf.a, n, buf.qkv, pool);
            positionTokens(l, n, start, cache, buf);
            // the last layer past the cache stores only matters for the tokens whose logits are asked for: without
            // allPositions, the last token alone goes on (as llama.cpp's output ids do), moved to row 0
            int carried = l == layers - 1 && !allPositions ? n - 1 : 0;
            attention(l, carried, n, start, cache, buf, qkvDim);
            if (carried > 0) {
                int qDim = plan.heads() * config.headDim();
                System.arraycopy(buf.attn, carried * qDim, buf.attn, 0, qDim);
                System.arraycopy(buf.x, carried * h, buf.x, 0, h);
                n = 1;
            }
            MatMul.apply(lw.out(), buf.attn, n, buf.o, pool);
            collective.allReduceSum(buf.o, 0, n * h);
            addTokens(buf.x, buf.o, n);

            normTokens(lw.mlpNorm(), buf.x, buf.a, n);
            // a squared-ReLU MLP's batch may go through both Q4_0 products in one (the up's sums rounded for the down
            // where they are computed); otherwise, and for SwiGLU, up (and gate), the activation, then down
            if (config.activation().gated() || !MatMul.squaredReluMlp(lw.upGate(), lw.down(), buf.a, n, buf.o, pool)) {
                MatMul.apply(lw.upGate(), buf.a, n, buf.ff, pool);
                MatMul.apply(lw.down(), activateTokens(n, buf), n, buf.o, pool);
            }
            collective.allReduceSum(buf.o, 0, n * h);
            addTokens(buf.x, buf.o, n);
        }

        if (run < layers) return null;
        int first = allPositions ? 0 : n - 1;
        int rows = n - first;
        for (int t = first; t < n; t++) weights.finalNorm().apply(buf.x, t * h, buf.a, (t - first) * h);
        float[] logits = allPositions || buf.logits == null ? new float[rows * config.vocabSize()] : buf.logits;
        if (!allPositions) buf.logits = logits;
        MatMul.apply(weights.lmHead(), buf.a, rows, logits, pool);
        return logits;
    }

    /**
     * Floating-point operations (two per multiply-add) of one {@link #forward} of {@code count} tokens at positions
     * {@code start, start+1, …} that returns the last token's logits, as it runs them on this rank: every layer's
     * q|k|v for every token; in the last layer attention, the output projection and the MLP for the last token only
     * (the others only fill the cache); attention as each query's scores over its positions and the weighted sum of
     * their values; the output layer once. Norms, rotary and the softmax are left out (well under 1 %).
     */
    public long forwardFlops(int count, int start) {
        long hd = config.headDim(), heads = plan.heads();
        long flops = 0;
        int layers = weights.layers().size();
        for (int l = 0; l < layers; l++) {
            LayerWeights lw = weights.layers().get(l);
            int n = l == layers - 1 ? 1 : count, first = count - n;
            flops += 2L * count * lw.qkv().rows() * lw.qkv().cols();
            for (int t = first; t < count; t++) flops += 2L * 2 * heads * hd * (start + t + 1);   // q·k and p·v
            for (WeightMatrix m : List.of(lw.out(), lw.upGate(), lw.down())) flops += 2L * n * m.rows() * m.cols();
        }
        return flops + 2L * weights.lmHead().rows() * weights.lmHead().cols();
    }

    // Per-token steps between the matrix products: on the caller for one token (decode: no dispatch, no lambda
    // allocated), over the pool for a batch (prefill: the pool's threads would only wait otherwise; bench/NOTES.md,
    // step 32). The pool still runs a batch too small to pay for a dispatch on the caller (its minimum work).

    /** {@code out[t] = norm(x[t])} for tokens {@code [0, T)}. */
    private void normTokens(NormWeights norm, float[] x, float[] out, int T) {
        int h = config.hiddenSize();
        if (T == 1) norm.apply(x, 0, out, 0);
        else pool.forRange(T, 4L * h, (chunk, t0, t1) -> {
            for (int t = t0; t < t1; t++) norm.apply(x, t * h, out, t * h);
        });
    }

    /** {@code x += y} over tokens {@code [0, T)}. */
    private void addTokens(float[] x, float[] y, int T) {
        int h = config.hiddenSize();
        if (T == 1) Activations.addInPlace(x, 0, y, 0, h);
        else pool.forRange(T, h, (chunk, t0, t1) -> Activations.addInPlace(x, t0 * h, y, t0 * h, (t1 - t0) * h));
    }

    /**
     * Rotary embedding of each token's q and k at its position, and its k and v into the cache. A batch goes over the
     * pool by key blocks of the cache ({@link Attention#KEY_BLOCK} positions): a block the batch fills is stored whole
     * ({@link KvCache#storeBlock}), the partial ones at the batch's ends position by position.
     */
    private void positionTokens(int layer, int T, int start, KvCache cache, ForwardBuffers buf) {
        if (T == 1) {
            positionToken(layer, 0, start, cache, buf, true);
            return;
        }
        int kb = Attention.KEY_BLOCK, b0 = start / kb, b1 = (start + T - 1) / kb + 1;
        int hd = config.headDim(), qDim = plan.heads() * hd, kvDim = plan.kvHeads() * hd, stride = qDim + 2 * kvDim;
        pool.forRange(b1 - b0, 4L * kb * plan.heads() * hd, (chunk, i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int p0 = Math.max(start, (b0 + i) * kb), p1 = Math.min(start + T, (b0 + i + 1) * kb);
                boolean whole = p1 - p0 == kb && cache.blockStores();
                for (int p = p0; p < p1; p++) positionToken(layer, p - start, start, cache, buf, !whole);
                if (whole) {
                    int base = (p0 - start) * stride;
                    cache.storeBlock(layer, p0, buf.qkv, base + qDim, base + qDim + kvDim, stride);
                }
            }
        });
    }

    /** Token {@code t}'s rotary embedding, and its k and v into the cache when {@code store}. */
    private void positionToken(int layer, int t, int start, KvCache cache, ForwardBuffers buf, boolean store) {
        int hd = config.headDim(), heads = plan.heads(), kvHeads = plan.kvHeads();
        int qDim = heads * hd, kvDim = kvHeads * hd, base = t * (qDim + 2 * kvDim);
        int cs = t * (rope.rotaryDim() / 2);
        rope.apply(buf.qkv, base, heads, hd, buf.cos, buf.sin, cs);
        rope.apply(buf.qkv, base + qDim, kvHeads, hd, buf.cos, buf.sin, cs);
        if (store) cache.store(layer, start + t, buf.qkv, base + qDim, base + qDim + kvDim);
    }

    /**
     * The MLP activation of each token's up (and gate) projection; returns the array holding the result, rows of
     * {@code plan.ffn()}: {@code buf.ff} itself for squared ReLU (in place), {@code buf.ffAct} for SwiGLU.
     */
    private float[] activateTokens(int T, ForwardBuffers buf) {
        int ffn = plan.ffn();
        boolean gated = config.activation().gated();
        if (T == 1) activate(0, 1, buf, gated, ffn);
        else pool.forRange(T, ffn, (chunk, t0, t1) -> activate(t0, t1, buf, gated, ffn));
        return gated ? buf.ffAct : buf.ff;
    }

    private static void activate(int t0, int t1, ForwardBuffers buf, boolean gated, int ffn) {
        if (!gated) {
            Activations.squaredRelu(buf.ff, t0 * ffn, (t1 - t0) * ffn);
            return;
        }
        for (int t = t0; t < t1; t++) {
            Activations.swiglu(buf.ff, t * 2 * ffn, buf.ff, t * 2 * ffn + ffn, ffn);
            System.arraycopy(buf.ff, t * 2 * ffn + ffn, buf.ffAct, t * ffn, ffn);
        }
    }

    /** Attention of the queries of tokens {@code [from, T)} over the cache up to each one's position. */
    private void attention(int layer, int from, int T, int start, KvCache cache, ForwardBuffers buf, int qkvDim) {
        int hd = config.headDim(), group = config.groupSize(), kvHeads = plan.kvHeads();
        int qDim = plan.heads() * hd, queries = T - from;
        // a tile: query heads of one KV head for up to ATTENTION_TILE tokens, so each cached row is read once per
        // tile (bench/NOTES.md, step 24); a KV head's query heads are split only where there would be fewer tiles
        // than threads (decode with one or two KV heads per rank)
        int tiles = (queries + ATTENTION_TILE - 1) / ATTENTION_TILE;
        int split = Math.min(group, Math.max(1, (pool.threads() + tiles * kvHeads - 1) / (tiles * kvHeads)));
        int items = tiles * kvHeads * split;
        long work = (long) (start + T) * hd * 2 * Math.min(queries, ATTENTION_TILE) * group / split;
        pool.forRange(items, work, (chunk, i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int part = i % split, g = i / split % kvHeads, t0 = from + i / split / kvHeads * ATTENTION_TILE;
                int h0 = g * group + part * group / split, heads = g * group + (part + 1) * group / split - h0;
                int tokens = Math.min(ATTENTION_TILE, T - t0);
                float[] scores = buf.scores(chunk, Attention.scratchSize(heads * tokens, start + t0 + tokens));
                Attention.attendShared(buf.qkv, t0 * qkvDim + h0 * hd, qkvDim, heads, tokens, start + t0,
                        cache.keys(layer), cache.values(layer), cache.headBase(g), hd, attnScale, scores,
                        buf.attn, t0 * qDim + h0 * hd, qDim);
            }
        });
    }

    /** Tokens per attention tile in prefill. */
    private static final int ATTENTION_TILE = 4;

    /** Scratch for one forward pass, grown to the largest batch seen; owned by one session. */
    public static final class ForwardBuffers {
        private final ModelConfig config;
        private final ShardPlan plan;
        private final int threads;
        private int capacity;
        float[] x, a, qkv, attn, o, ff, ffAct, cos, sin, logits;
        private float[][] scores;

        public ForwardBuffers(ModelConfig config, ShardPlan plan, int threads) {
            this.config = config;
            this.plan = plan;
            this.threads = threads;
            this.scores = new float[threads][];
        }

        void ensure(int T) {
            if (T <= capacity) return;
            int h = config.hiddenSize(), hd = config.headDim();
            int qDim = plan.heads() * hd, kvDim = plan.kvHeads() * hd;
            int ffRows = plan.ffn() * (config.activation().gated() ? 2 : 1);
            x = new float[T * h];
            a = new float[T * h];
            qkv = new float[T * (qDim + 2 * kvDim)];
            attn = new float[T * qDim];
            o = new float[T * h];
            ff = new float[T * ffRows];
            ffAct = config.activation().gated() ? new float[T * plan.ffn()] : null; // squared ReLU works in place
            cos = new float[T * Math.max(1, config.rotaryDim() / 2)];
            sin = new float[T * Math.max(1, config.rotaryDim() / 2)];
            capacity = T;
        }

        float[] scores(int chunk, int length) {
            float[] s = scores[chunk];
            if (s == null || s.length < length) {
                s = new float[Math.max(length, 256)];
                scores[chunk] = s;
            }
            return s;
        }

        int threads() {
            return threads;
        }
    }
}
