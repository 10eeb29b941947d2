package dev.nemotron4j.tools.cli;

import dev.nemotron4j.engine.LoadOptions;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options every command that loads a model shares. */
final class ModelOptions {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH",
            description = "Model: a Hugging Face folder (config.json + *.safetensors), a .gguf file, a .nemo file or an extracted .nemo directory.")
    Path model;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "Compute threads (default: all ${sys:nemotron4j.cores} cores).")
    Integer threads;

    @Option(names = "--context", paramLabel = "N",
            description = "KV-cache positions (default: the model's context, at most " + LoadOptions.DEFAULT_MAX_CONTEXT + ").")
    Integer context;

    /** More threads than this only wait for each other; far more cannot even be started (a clear error instead). */
    static final int MAX_THREADS = Math.max(64, 8 * Runtime.getRuntime().availableProcessors());

    static {
        System.setProperty("nemotron4j.cores", String.valueOf(Runtime.getRuntime().availableProcessors()));
    }

    LoadOptions loadOptions() {
        LoadOptions o = LoadOptions.defaults();
        if (threads != null) {
            if (threads < 1) throw new UserException("--threads must be at least 1, got " + threads);
            if (threads > MAX_THREADS) {
                throw new UserException("--threads " + threads + " is more than " + MAX_THREADS + " (8 per core of the "
                        + Runtime.getRuntime().availableProcessors() + " here; more only wait for each other)");
            }
            o = o.withThreads(threads);
        }
        if (context != null) {
            if (context < 1) throw new UserException("--context must be at least 1, got " + context);
            o = o.withContextLength(context);
        }
        return o;
    }
}
