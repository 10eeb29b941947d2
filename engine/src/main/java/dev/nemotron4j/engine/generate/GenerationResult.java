package dev.nemotron4j.engine.generate;

/**
 * The outcome of one generation call. Timings are wall-clock; decode speed counts the tokens after the
 * first (whose cost is the prefill).
 */
public record GenerationResult(int[] promptIds, int[] tokenIds, StopReason stopReason, long prefillNanos,
                               long decodeNanos) {

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
