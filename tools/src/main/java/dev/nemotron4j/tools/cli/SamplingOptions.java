package dev.nemotron4j.tools.cli;

import dev.nemotron4j.engine.sampling.SamplingParams;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/** The sampling flags shared by generate and chat. Defaults are llama.cpp's. */
final class SamplingOptions {
    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.8",
            description = "Randomness; 0 = greedy (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "40", description = "Keep the K most likely tokens; 0 = off (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95", description = "Nucleus sampling; 1 = off (default: ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0.05",
            description = "Drop tokens less likely than P × the best; 0 = off (default: ${DEFAULT-VALUE}).")
    double minP;

    @Option(names = "--repetition-penalty", paramLabel = "R", defaultValue = "1.0",
            description = "Divide the logits of tokens already in the context by R (NeMo semantics); 1 = off (default: ${DEFAULT-VALUE}).")
    double repetitionPenalty;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0",
            description = "Random seed: the same seed and input give the same output (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = {"-n", "--max-tokens"}, paramLabel = "N", defaultValue = "256",
            description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--min-tokens", paramLabel = "N", defaultValue = "0",
            description = "End-of-sequence and stop tokens are forbidden before N tokens (default: ${DEFAULT-VALUE}).")
    int minTokens;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when the output contains TEXT (repeatable).")
    List<String> stop = new ArrayList<>();

    SamplingParams params() {
        if (maxTokens < 0) throw new UserException("--max-tokens (-n) must be 0 or more, got " + maxTokens);
        if (minTokens < 0) throw new UserException("--min-tokens must be 0 or more, got " + minTokens);
        if (minTokens > maxTokens) {
            throw new UserException("--min-tokens " + minTokens + " is more than --max-tokens (-n) " + maxTokens);
        }
        try {
            return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed, maxTokens, minTokens,
                    stop == null ? List.of() : stop, java.util.Set.of(), false);
        } catch (IllegalArgumentException e) {
            throw new UserException(optionNamed(e.getMessage()));
        }
    }

    /** The engine's message, with the quantity it names given as the option a user typed ("top-p" → "--top-p"). */
    static String optionNamed(String message) {
        String[][] names = {{"temperature", "--temperature"}, {"top-k", "--top-k"}, {"top-p", "--top-p"}, {"min-p", "--min-p"},
                {"repetition penalty", "--repetition-penalty"}, {"max tokens", "--max-tokens (-n)"},
                {"min tokens", "--min-tokens"}, {"a stop string", "a --stop string"}};
        for (String[] n : names) {
            if (message.startsWith(n[0] + " ")) return n[1] + message.substring(n[0].length());
        }
        return message;
    }
}
