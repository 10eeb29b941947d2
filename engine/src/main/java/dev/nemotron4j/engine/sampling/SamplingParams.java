package dev.nemotron4j.engine.sampling;

import java.util.List;
import java.util.Set;

/**
 * How to pick tokens and when to stop. {@code temperature == 0} is greedy (then top-k/top-p/min-p and the
 * repetition penalty are ignored, as in NeMo). Same seed + same input = same output.
 *
 * @param topK              keep the k most likely tokens (0 = off)
 * @param topP              keep the smallest set whose probability reaches p (1 = off)
 * @param minP              drop tokens less likely than minP × the most likely one (0 = off)
 * @param repetitionPenalty NeMo semantics: every token already in the context has its logit divided by this (1 = off)
 * @param minTokens         end-of-sequence and stop tokens are impossible before this many tokens
 * @param stopStrings       generation ends when the text contains one; it is not part of the output
 * @param stopTokenIds      generation ends at these ids (besides the model's EOS ids)
 * @param logprobs          report log p(chosen token) from the model's raw distribution
 */
public record SamplingParams(double temperature, int topK, double topP, double minP, double repetitionPenalty,
                             long seed, int maxTokens, int minTokens, List<String> stopStrings, Set<Integer> stopTokenIds,
                             boolean logprobs) {

    public SamplingParams {
        stopStrings = List.copyOf(stopStrings);
        stopTokenIds = Set.copyOf(stopTokenIds);
        if (!(temperature >= 0) || Double.isInfinite(temperature)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        if (!(minP >= 0 && minP <= 1)) throw new IllegalArgumentException("min-p must be in [0, 1], got " + minP);
        if (!(repetitionPenalty > 0)) throw new IllegalArgumentException("repetition penalty must be > 0, got " + repetitionPenalty);
        if (maxTokens < 0) throw new IllegalArgumentException("max tokens must be >= 0, got " + maxTokens);
        if (minTokens < 0) throw new IllegalArgumentException("min tokens must be >= 0, got " + minTokens);
        for (String s : stopStrings) if (s.isEmpty()) throw new IllegalArgumentException("a stop string cannot be empty");
    }

    /** llama.cpp's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, seed 0, 256 tokens. */
    public static SamplingParams defaults() {
        return new SamplingParams(0.8, 40, 0.95, 0.05, 1.0, 0, 256, 0, List.of(), Set.of(), false);
    }

    public static SamplingParams greedy(int maxTokens) {
        return defaults().withTemperature(0).withMaxTokens(maxTokens);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    public SamplingParams withTemperature(double v) {
        return new SamplingParams(v, topK, topP, minP, repetitionPenalty, seed, maxTokens, minTokens, stopStrings, stopTokenIds, logprobs);
    }

    public SamplingParams withTopK(int v) {
        return new SamplingParams(temperature, v, topP, minP, repetitionPenalty, seed, maxTokens, minTokens, stopStrings, stopTokenIds, logprobs);
    }

    public SamplingParams withTopP(double v) {
        return new SamplingParams(temperature, topK, v, minP, repetitionPenalty, seed, maxTokens, minTokens, stopStrings, stopTokenIds, logprobs);
    }

    public SamplingParams withMinP(double v) {
        return new SamplingParams(temperature, topK, topP, v, repetitionPenalty, seed, maxTokens, minTokens, stopStrings, stopTokenIds, logprobs);
    }

    public SamplingParams withRepetitionPenalty(double v) {
        return new SamplingParams(temperature, topK, topP, minP, v, seed, maxTokens, minTokens, stopStrings, stopTokenIds, logprobs);
    }

    public SamplingParams withSeed(long v) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, v, maxTokens, minTokens, stopStrings, stopTokenIds, logprobs);
    }

    public SamplingParams withMaxTokens(int v) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed, v, minTokens, stopStrings, stopTokenIds, logprobs);
    }

    public SamplingParams withMinTokens(int v) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed, maxTokens, v, stopStrings, stopTokenIds, logprobs);
    }

    public SamplingParams withStopStrings(List<String> v) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed, maxTokens, minTokens, v, stopTokenIds, logprobs);
    }

    public SamplingParams withStopTokenIds(Set<Integer> v) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed, maxTokens, minTokens, stopStrings, v, logprobs);
    }

    public SamplingParams withLogprobs(boolean v) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed, maxTokens, minTokens, stopStrings, stopTokenIds, v);
    }
}
