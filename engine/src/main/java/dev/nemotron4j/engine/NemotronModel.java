package dev.nemotron4j.engine;

import dev.nemotron4j.engine.generate.GeneratedToken;
import dev.nemotron4j.engine.generate.Greedy;
import dev.nemotron4j.engine.generate.Generation;
import dev.nemotron4j.engine.generate.GenerationResult;
import dev.nemotron4j.engine.generate.StreamListener;
import dev.nemotron4j.engine.sampling.SamplingParams;
import dev.nemotron4j.tokenizer.Tokenizer;
import dev.nemotron4j.engine.generate.TokenListener;
import dev.nemotron4j.engine.kernels.MatMul;
import dev.nemotron4j.engine.kernels.ReadBandwidth;
import dev.nemotron4j.engine.kernels.WeightMatrix;
import dev.nemotron4j.engine.kernels.WorkerPool;
import dev.nemotron4j.engine.model.Decoder;
import dev.nemotron4j.engine.model.ModelWeights;
import dev.nemotron4j.engine.parallel.ShardPlan;
import dev.nemotron4j.loader.Checkpoint;
import dev.nemotron4j.loader.CheckpointLoader;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.tensor.Tensor;
import dev.nemotron4j.loader.tensor.TensorBlock;
import dev.nemotron4j.loader.tensor.TensorSet;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;

/**
 * A loaded model: weights mapped from its checkpoint, its own thread pool, no global state. Several models
 * (and several sessions per model) can live in one JVM.
 *
 * <pre>{@code
 * try (NemotronModel model = NemotronModel.load(Path.of("Nemotron-Mini-4B-Instruct"))) {
 *     GenerationResult r = model.generateGreedy(promptIds, 64, id -> true);
 * }
 * }</pre>
 */
public final class NemotronModel implements AutoCloseable {
    private final Checkpoint checkpoint;
    private final LoadOptions options;
    private final WorkerPool pool;
    private final Decoder decoder;
    private final int contextLength;
    private boolean closed;

    private NemotronModel(Checkpoint checkpoint, LoadOptions options) {
        this.checkpoint = checkpoint;
        this.options = options;
        ModelConfig c = checkpoint.config();
        ShardPlan plan = ShardPlan.of(c, options.collective().rank(), options.collective().worldSize());
        ModelWeights weights = ModelWeights.bind(checkpoint.tensors(), c, plan);
        this.pool = new WorkerPool(options.threads());
        this.decoder = new Decoder(c, weights, plan, options.collective(), pool);
        int max = c.maxPositions();
        this.contextLength = options.contextLength() > 0 ? Math.min(options.contextLength(), max)
                : Math.min(max, LoadOptions.DEFAULT_MAX_CONTEXT);
    }

    public static NemotronModel load(Path path) {
        return load(path, LoadOptions.defaults());
    }

    public static NemotronModel load(Path path, LoadOptions options) {
        return fromCheckpoint(CheckpointLoader.open(path), options);
    }

    /** Takes ownership of {@code checkpoint}: closing the model closes it. */
    public static NemotronModel fromCheckpoint(Checkpoint checkpoint, LoadOptions options) {
        try {
            return new NemotronModel(checkpoint, options);
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    public ModelConfig config() {
        return checkpoint.config();
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    /** KV-cache positions of each new session. */
    public int contextLength() {
        return contextLength;
    }

    public int threads() {
        return pool.threads();
    }

    /**
     * Brings the weights into memory before the first token instead of during it: Q4_0/Q8_0/BF16 projections get the
     * kernels' repacked copy (their mapped pages are read once and released), and the mapped pages of every other
     * tensor are read once, so the first reply does not wait for the disk. {@code progress} gets (bytes done, bytes
     * of the checkpoint) as it goes. Returns the bytes repacked.
     */
    public long prepareWeights(BiConsumer<Long, Long> progress) {
        TensorSet tensors = checkpoint.tensors();
        long total = tensors.totalBytes(), done = 0, repacked = 0;
        // tensors whose bytes a repacked copy replaced (the matrices share the tensors' block segments)
        Set<MemorySegment> replaced = Collections.newSetFromMap(new IdentityHashMap<>());
        for (WeightMatrix m : decoder.weights().projections()) {
            if (!m.prepare(pool)) continue;
            repacked += m.byteSize();
            done += m.byteSize();
            replaced.addAll(m.sources());
            progress.accept(Math.min(done, total), total);
        }
        for (Tensor t : tensors.all().values()) {
            for (TensorBlock b : t.blocks()) {
                if (replaced.contains(b.data())) continue;
                if (b.data().isMapped()) b.data().load();
                done += b.data().byteSize();
            }
            progress.accept(Math.min(done, total), total);
        }
        return repacked;
    }

    /**
     * Runs one token, then long prompts through the first layer ({@link #warmUpLongPrompts}) and through every layer
     * ({@link #warmUpModelPasses}), then a short prompt and up to {@link #DECODE_STEPS} decoded tokens, through scratch
     * sessions, so the JIT compiles the decode and prefill kernels before the first real prompt. Until then they run
     * interpreted, where every vector operation allocates (bench/NOTES.md, step 19). Call after {@link
     * #prepareWeights}; the caches it used are discarded.
     */
    public void warmUpKernels() {
        warmUpKernels(() -> false);
    }

    /**
     * As {@link #warmUpKernels()}, on any thread, stopping early once {@code stopAsked} says so: it is asked after the
     * first one-token pass (which runs the kernels interpreted: 1.7 s for the small BF16 model, 5.8 s for its Q4_0
     * file, whose Q6_K output layer is the slowest to compile), then between passes (0.05–0.5 s each) and decode
     * steps, so that a chat can warm up while its user types and still quit soon; once it has said true it is not
     * asked again. Tensor-parallel ranks stop after the same pass.
     */
    public void warmUpKernels(BooleanSupplier stopAsked) {
        BooleanSupplier stop = latched(stopAsked);
        int v = config().vocabSize(), n = Math.min(contextLength - 1, 2 * MatMul.WIDEN_MIN_TOKENS);
        int[] ids = new int[Math.max(1, n)];
        for (int i = 0; i < ids.length; i++) ids[i] = (31 * i + 7) % v;
        // a one-token pass first, so the decode path is compiled before the prefill kernels: the other order left
        // 4B Q8_0 decode ≈ 20 % slower for the rest of the run (JIT compile order; bench/NOTES.md, step 21)
        try (InferenceSession s = newSession(1)) {
            s.prefill(new int[]{ids[0]});
        }
        if (anyRank(stop.getAsBoolean())) return;
        warmUpModelPasses(warmUpLongPrompts(stop), stop);
        if (anyRank(stop.getAsBoolean())) return;
        // then a short prompt through every layer (the last layer for its last token, the output layer) and decode
        // steps after it: the long prompts above stop at the first layer
        int steps = Math.max(1, Math.min(DECODE_STEPS, contextLength - ids.length));
        try (InferenceSession s = newSession(ids.length + steps)) {
            float[] logits = s.prefill(ids);
            long start = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                logits = s.decode(Greedy.argmax(logits, 0, v));
                if (anyRank(System.nanoTime() - start > DECODE_BUDGET || stop.getAsBoolean())) break;
            }
        }
    }

    /** Scratch replies {@link #warmUpReplies} runs at most, the tokens each may have, and the time they may take. */
    private static final int REPLY_ROUNDS = 3, REPLY_TOKENS = 16;
    private static final long REPLY_BUDGET = 1_500_000_000L;
    /** What the scratch replies continue, where there is a tokenizer. */
    private static final String REPLY_PROMPT = "Hello! Could you tell me a short story about a lighthouse?";

    /**
     * Runs up to {@link #REPLY_ROUNDS} scratch replies of up to {@link #REPLY_TOKENS} tokens with {@code params} (their
     * token limits replaced; {@code tokenizer} may be null), through {@link #generate} like a real reply, so the code
     * around the kernels that every reply runs (the sampler, the streaming detokenizer, the stop-string checks) is
     * compiled too before the first one. {@link #warmUpKernels} decodes greedily and without text: after it alone,
     * the first reply of a chat with the default sampling took 40–80 ms for each of its first tokens instead of 11, and
     * decoded at 45–57 tok/s instead of 74–93 (small Q4_0; bench/NOTES.md step 54). The replies stop early once they
     * have taken {@link #REPLY_BUDGET} (a big model's tokens take seconds, and there the JIT settles within its first
     * reply anyway). Call after {@link #warmUpKernels}; the scratch sessions are discarded. Returns the tokens generated.
     */
    public int warmUpReplies(Tokenizer tokenizer, SamplingParams params) {
        return warmUpReplies(tokenizer, params, () -> false);
    }

    /**
     * As {@link #warmUpReplies(Tokenizer, SamplingParams)}, stopping after the token where {@code stopAsked} says so
     * (asked before each reply and after each token, and not again once it has said true).
     */
    public int warmUpReplies(Tokenizer tokenizer, SamplingParams params, BooleanSupplier stopAsked) {
        BooleanSupplier stop = latched(stopAsked);
        int tokens = Math.min(REPLY_TOKENS, contextLength - 1);
        if (tokens < 1) return 0;
        int v = config().vocabSize();
        int[] prompt = tokenizer == null ? new int[0] : tokenizer.encode(REPLY_PROMPT);
        if (prompt.length == 0) prompt = new int[]{7 % v, 31 % v, 127 % v};
        prompt = Arrays.copyOf(prompt, Math.min(prompt.length, contextLength - tokens));
        SamplingParams p = params.withMaxTokens(tokens).withMinTokens(Math.min(params.minTokens(), tokens));
        long start = System.nanoTime();
        boolean[] over = {false};
        StreamListener withinBudget = t -> {
            // every rank of a tensor-parallel model runs the same reply, and each stops after the same token
            over[0] = anyRank(System.nanoTime() - start > REPLY_BUDGET || stop.getAsBoolean());
            return !over[0];
        };
        int generated = 0;
        for (int round = 0; round < REPLY_ROUNDS && !over[0] && !anyRank(stop.getAsBoolean()); round++) {
            try (InferenceSession s = newSession(prompt.length + tokens)) {
                generated += generate(s, prompt, p, tokenizer, withinBudget).tokenIds().length;
            }
        }
        if (!over[0] && !stop.getAsBoolean()) awaitQuietCompiler();
        return generated;
    }

    /**
     * Decode steps {@link #warmUpKernels} takes after its short prompt at most, and the time they may take: kernels
     * that run once per product, such as the int8 rounding of decode's activations, take this many calls before C2
     * compiles them. A prefill-only `bench` otherwise left that rounding C1-compiled (its vector operations boxed:
     * 72 MB allocated per 6 s) for the last layer's token of every prompt (bench/NOTES.md, step 50).
     */
    private static final int DECODE_STEPS = 12;
    private static final long DECODE_BUDGET = 1_000_000_000L;

    /** Prompt lengths {@link #warmUpLongPrompts} alternates: slabs of 48 + 32 and 48 + 16 tokens, every Q4_0 tile. */
    private static final int[] WARM_UP_PROMPTS = {80, 64};
    /** Time {@link #warmUpLongPrompts} may take (from its second pass on), in nanoseconds. */
    private static final long WARM_UP_BUDGET = 3_000_000_000L;
    /**
     * Passes at least: C2 takes a method once it has been called ≈ 600 times with many loop iterations (attention runs
     * 80 times a pass), and a short run of C1-compiled passes looks settled too.
     */
    private static final int MIN_PASSES = 40;

    /**
     * Long prompts through the first layer, again and again until their time settles (at least {@link #MIN_PASSES}
     * passes, at most twice that, or two passes and the budget: one layer of a 70B or 340B model takes seconds a pass,
     * and its first real prompt is long enough for the JIT anyway): every prefill step (the integer and float
     * tiles of every variant, attention over 4-token tiles, whole key blocks, the per-token steps over the pool) gets
     * compiled, at the cost of one layer per pass. The short prompt of {@link #warmUpKernels} reaches few of them:
     * `bench`'s first pp128 after it ran at ≈ 65 tok/s and its second at ≈ 320, against ≈ 600 later (bench/NOTES.md,
     * step 44).
     */
    private long warmUpLongPrompts(BooleanSupplier stop) {
        int v = config().vocabSize(), longest = Math.min(WARM_UP_PROMPTS[0], contextLength);
        if (longest < 2 * MatMul.WIDEN_MIN_TOKENS) return Long.MAX_VALUE;
        try (InferenceSession s = newSession(longest)) {
            long[] best = new long[WARM_UP_PROMPTS.length];
            Arrays.fill(best, Long.MAX_VALUE);
            long start = System.nanoTime();
            for (int pass = 0, settled = 0; ; pass++) {
                int k = pass % WARM_UP_PROMPTS.length, n = Math.min(WARM_UP_PROMPTS[k], longest);
                int[] ids = new int[n];
                for (int i = 0; i < n; i++) ids[i] = (31 * i + 7 * pass + 5) % v;
                long t0 = System.nanoTime();
                s.warmUpLayers(ids, 1);
                long dt = System.nanoTime() - t0;
                best[k] = Math.min(best[k], dt);
                settled = dt <= best[k] + best[k] / 4 ? settled + 1 : 0;
                boolean done = pass + 1 >= 2 * MIN_PASSES || (pass + 1 >= MIN_PASSES && settled >= 4)
                        || (pass + 1 >= 2 && System.nanoTime() - start > WARM_UP_BUDGET) || stop.getAsBoolean();
                if (anyRank(done)) break;
            }
            return best[0];
        }
    }

    /** {@code stop}, asked until it first says true, and true from then on without asking it again. */
    private static BooleanSupplier latched(BooleanSupplier stop) {
        boolean[] said = {false};
        return () -> said[0] || (said[0] = stop.getAsBoolean());
    }

    /**
     * Whether {@code done} holds on any tensor-parallel rank (on this one, alone): the warm-up loops run collectives
     * every pass or step, so the ranks must stop after the same one, and each stops when any would.
     */
    private boolean anyRank(boolean done) {
        if (options.collective().worldSize() == 1) return done;
        float[] flag = {done ? 1 : 0};
        options.collective().allReduceSum(flag, 0, 1);
        return flag[0] > 0;
    }

    /** The longest a model-wide warm-up pass may be expected to take, in nanoseconds. */
    private static final long MODEL_PASS_LIMIT = 500_000_000L;
    /** Model-wide warm-up passes at most. */
    private static final int MODEL_PASSES = 3;

    /**
     * The first long prompt through every layer, {@link #MODEL_PASSES} times, where one layer's best pass
     * ({@code layerNanos}) times the layers stays within {@link #MODEL_PASS_LIMIT}; then a wait for the JIT to finish
     * what they queued. After the first-layer passes the methods called once per layer or per dispatch part had still
     * been called too few times for C2: `bench`'s first two full prefills of the small model took 240–340 ms against
     * 165–200 ms later, 175–210 ms after these passes (bench/NOTES.md, step 48). Larger models skip the passes (their
     * prompts are long enough for the JIT to settle within the first), not the wait.
     */
    private void warmUpModelPasses(long layerNanos, BooleanSupplier stop) {
        int layers = config().numLayers(), n = Math.min(WARM_UP_PROMPTS[0], contextLength);
        float[] expected = {layerNanos == Long.MAX_VALUE ? Float.MAX_VALUE : (float) layerNanos * layers};
        // tensor-parallel ranks decide together: the passes run collectives
        if (options.collective().worldSize() > 1) options.collective().allReduceSum(expected, 0, 1);
        if (expected[0] <= (float) MODEL_PASS_LIMIT * options.collective().worldSize()) {
            int v = config().vocabSize();
            int[] ids = new int[n];
            for (int i = 0; i < n; i++) ids[i] = (17 * i + 3) % v;
            try (InferenceSession s = newSession(n)) {
                for (int pass = 0; pass < MODEL_PASSES && !anyRank(stop.getAsBoolean()); pass++) s.warmUpLayers(ids, layers);
            }
        }
        if (!stop.getAsBoolean()) awaitQuietCompiler();
    }

    /** How long {@link #awaitQuietCompiler} waits at most, and how long the compilers must stay idle, in milliseconds. */
    private static final long COMPILER_WAIT_MS = 1000, COMPILER_QUIET_MS = 100;

    /**
     * Sleeps until the JIT's total compilation time has not moved for {@link #COMPILER_QUIET_MS} (at most
     * {@link #COMPILER_WAIT_MS}): compiles the warm-up queued then finish with both cores to themselves, instead of
     * beside the first prompt. Returns at once where the JVM does not report compilation time.
     */
    private static void awaitQuietCompiler() {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) return;
        long deadline = System.nanoTime() + COMPILER_WAIT_MS * 1_000_000L, last = jit.getTotalCompilationTime();
        try {
            while (System.nanoTime() < deadline) {
                Thread.sleep(COMPILER_QUIET_MS);
                long now = jit.getTotalCompilationTime();
                if (now == last) return;
                last = now;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A probe of this machine's memory read bandwidth as the model's threads see it, over {@code bytes} ({@link
     * ReadBandwidth}): with {@link #bytesPerToken}, decode's roofline. Empty where its buffer would not leave enough
     * memory free.
     */
    public Optional<ReadBandwidth> readBandwidth(long bytes) {
        return ReadBandwidth.over(pool, bytes);
    }

    /** Bytes of weights read per decoded token: the memory-bandwidth bound on decode speed. */
    public long bytesPerToken() {
        return decoder.weights().bytesPerToken();
    }

    /**
     * Floating-point operations of {@link InferenceSession#prefill} of {@code tokens} tokens after {@code start} cached
     * positions, batch by batch as a session runs them ({@link Decoder#forwardFlops}): what prefill's FLOP/s are
     * counted against.
     */
    public long prefillFlops(int tokens, int start) {
        long flops = 0;
        for (int from = 0; from < tokens; from += options.prefillBatch()) {
            flops += decoder.forwardFlops(Math.min(options.prefillBatch(), tokens - from), start + from);
        }
        return flops;
    }

    public InferenceSession newSession() {
        return newSession(contextLength);
    }

    public InferenceSession newSession(int capacity) {
        return new InferenceSession(decoder, capacity, pool.threads(), options.prefillBatch());
    }

    /** Logits after every prompt position, {@code [ids.length][vocab]}, from a fresh cache. */
    public float[][] logitsAll(int[] ids) {
        try (InferenceSession s = newSession(Math.max(1, Math.min(contextLength, ids.length)))) {
            if (ids.length > contextLength) throw new ContextOverflowException(ids.length, contextLength);
            float[] flat = s.prefillAll(ids);
            int v = config().vocabSize();
            float[][] rows = new float[ids.length][];
            for (int i = 0; i < ids.length; i++) rows[i] = Arrays.copyOfRange(flat, i * v, (i + 1) * v);
            return rows;
        }
    }

    /**
     * Greedy continuation of {@code prompt}: up to {@code maxTokens} tokens, stopping early at an EOS id, a full
     * context, or when {@code listener} returns false. Tokens reach the listener as they are produced.
     */
    public GenerationResult generateGreedy(int[] prompt, int maxTokens, TokenListener listener) {
        return generate(prompt, SamplingParams.greedy(maxTokens), null, t -> listener.onToken(t.id()));
    }

    /**
     * Continues {@code prompt} in a fresh session with the given sampling; {@code tokenizer} (may be null) gives
     * the text and stop strings; {@code listener} sees each token as it is produced and may stop generation.
     */
    public GenerationResult generate(int[] prompt, SamplingParams params, Tokenizer tokenizer, StreamListener listener) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt is empty");
        if (prompt.length > contextLength) throw new ContextOverflowException(prompt.length, contextLength);
        try (InferenceSession s = newSession()) {
            return generate(s, prompt, params, tokenizer, listener);
        }
    }

    /** Like {@link #generate(int[], SamplingParams, Tokenizer, StreamListener)}, appending to an existing session. */
    public GenerationResult generate(InferenceSession session, int[] newIds, SamplingParams params, Tokenizer tokenizer,
                                     StreamListener listener) {
        Generation g = start(session, newIds, params, tokenizer);
        while (g.hasNext()) {
            if (!listener.onToken(g.next()) && g.hasNext()) g.stop();
        }
        return g.result();
    }

    /** A generation to drive token by token (an {@link java.util.Iterator} of tokens with their text). */
    public Generation start(InferenceSession session, int[] newIds, SamplingParams params, Tokenizer tokenizer) {
        return new Generation(session, tokenizer, config().vocabSize(), config().eosIds(), newIds, params);
    }

    /** The generated tokens as a lazy stream; each element is produced when the stream asks for it. */
    public java.util.stream.Stream<GeneratedToken> stream(InferenceSession session, int[] newIds, SamplingParams params,
                                                          Tokenizer tokenizer) {
        Generation g = start(session, newIds, params, tokenizer);
        return java.util.stream.StreamSupport.stream(java.util.Spliterators.spliteratorUnknownSize(g,
                java.util.Spliterator.ORDERED | java.util.Spliterator.NONNULL), false);
    }

    /** Stops the threads and unmaps the weights; idempotent. Sessions of this model must not be used after. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        pool.close();
        checkpoint.close();
    }
}
