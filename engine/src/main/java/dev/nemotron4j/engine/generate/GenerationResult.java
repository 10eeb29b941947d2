package dev.nemotron4j.engine.generate;

/**
 * The outcome of one generation call. {@code text} excludes stop strings and end tokens; {@code tokenIds}
 * includes the token that ended generation, if one did. Timings are wall-clock; decode speed counts the tokens
 * after the first (whose cost is the prefill).
 *
 * @param logprobs log p of each generated token, or null when not requested
 */
public record GenerationResult(int[] promptIds, int[] tokenIds, String text, StopReason stopReason, long prefillNanos,
                               long decodeNanos, float[] logprobs) {

    public double timeToFirstTokenMillis() {
        return prefillNanos / 1e6;
    }

    /** Generated tokens per second of decoding (0 when fewer than two tokens were generated). */
    public double decodeTokensPerSecond() {
        int decoded = tokenIds.length - 1;
        return decoded <= 0 || decodeNanos <= 0 ? 0 : decoded / (decodeNanos / 1e9);
    }

    /** Prompt tokens per second of prefill. */
    public double prefillTokensPerSecond() {
        return prefillNanos <= 0 ? 0 : promptIds.length / (prefillNanos / 1e9);
    }
}
