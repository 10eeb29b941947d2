package dev.nemotron4j.engine;

import dev.nemotron4j.engine.parallel.Collective;

/**
 * How to load a model.
 *
 * @param threads        compute threads of this model's own pool (default: available processors)
 * @param contextLength  KV-cache positions per session; 0 = the model's context, capped at {@link #DEFAULT_MAX_CONTEXT}
 * @param collective     tensor-parallel communication; {@link Collective#single()} for one process
 * @param prefillBatch   tokens per prefill step (bounds scratch memory for long prompts)
 */
public record LoadOptions(int threads, int contextLength, Collective collective, int prefillBatch) {
    /** Llama 3.1 claims 131072 positions; a cache that large is 40+ GB, so ask for it explicitly. */
    public static final int DEFAULT_MAX_CONTEXT = 8192;

    public LoadOptions {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (contextLength < 0) throw new IllegalArgumentException("context length must be >= 0, got " + contextLength);
        if (prefillBatch < 1) throw new IllegalArgumentException("prefill batch must be >= 1, got " + prefillBatch);
        if (collective == null) collective = Collective.single();
    }

    public static LoadOptions defaults() {
        return new LoadOptions(Runtime.getRuntime().availableProcessors(), 0, Collective.single(), 256);
    }

    public LoadOptions withThreads(int n) {
        return new LoadOptions(n, contextLength, collective, prefillBatch);
    }

    public LoadOptions withContextLength(int n) {
        return new LoadOptions(threads, n, collective, prefillBatch);
    }

    public LoadOptions withCollective(Collective c) {
        return new LoadOptions(threads, contextLength, c, prefillBatch);
    }

    public LoadOptions withPrefillBatch(int n) {
        return new LoadOptions(threads, contextLength, collective, n);
    }
}
