package dev.nemotron4j.tools.cli;

import dev.nemotron4j.engine.LoadOptions;
import dev.nemotron4j.engine.ModelTokenizers;
import dev.nemotron4j.engine.NemotronModel;
import dev.nemotron4j.engine.kernels.VectorInfo;
import dev.nemotron4j.tokenizer.Tokenizer;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Optional;

/** A model and (lazily) its tokenizer, opened for one command, with progress on stderr for big models. */
final class LoadedModel implements AutoCloseable {
    /** Below this the load is instant and progress would only be noise. */
    private static final long REPORT_BYTES = 512L << 20;

    final NemotronModel model;
    private Tokenizer tokenizer;

    private LoadedModel(NemotronModel model) {
        this.model = model;
    }

    static LoadedModel open(Path path, LoadOptions options, PrintStream err) {
        VectorInfo.slownessWarning().ifPresent(w -> err.println("nemotron4j: warning: " + w));
        long t0 = System.nanoTime();
        NemotronModel m = NemotronModel.load(path, options);
        long bytes = m.bytesPerToken();
        if (bytes >= REPORT_BYTES) {
            err.printf("nemotron4j: mapped %s (%s, %.2f GB of weights) in %d ms, %d threads%n", path,
                    m.checkpoint().layout(), bytes / 1e9, (System.nanoTime() - t0) / 1_000_000, m.threads());
        }
        return new LoadedModel(m);
    }

    Tokenizer tokenizer() {
        if (tokenizer == null) tokenizer = ModelTokenizers.require(model.checkpoint());
        return tokenizer;
    }

    Optional<Tokenizer> tokenizerIfAny() {
        if (tokenizer == null) tokenizer = ModelTokenizers.open(model.checkpoint()).orElse(null);
        return Optional.ofNullable(tokenizer);
    }

    @Override
    public void close() {
        if (tokenizer != null) tokenizer.close();
        model.close();
    }
}
