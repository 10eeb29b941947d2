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
    /** A terminal is attached (progress can rewrite its line). */
    static final boolean INTERACTIVE = System.console() != null;

    final NemotronModel model;
    private Tokenizer tokenizer;

    private LoadedModel(NemotronModel model) {
        this.model = model;
    }

    static LoadedModel open(Path path, LoadOptions options, PrintStream err) {
        VectorInfo.slownessWarning().ifPresent(w -> err.println("nemotron4j: warning: " + w));
        long t0 = System.nanoTime();
        NemotronModel m = NemotronModel.load(path, options);
        if (options.contextLength() > m.contextLength()) {
            err.printf("nemotron4j: warning: --context %d is more than %s's %d positions; using %d%n",
                    options.contextLength(), path, m.config().maxPositions(), m.contextLength());
        }
        long bytes = m.bytesPerToken();
        if (bytes >= REPORT_BYTES) {
            err.printf("nemotron4j: mapped %s (%s, %.2f GB; %.2f GB read per token) in %d ms, %d threads%n", path,
                    m.checkpoint().layout(), m.checkpoint().tensors().totalBytes() / 1e9, bytes / 1e9,
                    (System.nanoTime() - t0) / 1_000_000, m.threads());
        }
        return new LoadedModel(m);
    }

    /**
     * Reads every weight page once and repacks Q4_0/Q8_0/BF16 projections ({@link #prepare}) so the first reply does
     * not pay for the disk, then runs a short scratch prompt ({@link NemotronModel#warmUpKernels}) and {@code more}
     * (scratch replies, say) so it does not pay for the JIT either. The warm-up is mostly the JIT compiling the kernels
     * for this CPU (seconds, on few cores, whatever the model's size): when it lasts longer than
     * {@link #quietMillis} a line says so, and "ready" follows.
     */
    void warmUp(PrintStream err, Runnable more) {
        long t0 = System.nanoTime();
        prepare(err);
        boolean[] said = {reported()}, done = {false};
        if (said[0]) err.println("nemotron4j: warming up (compiling the kernels for this CPU)...");
        Thread notice = Thread.ofPlatform().daemon().name("nemotron4j-warm-up-notice").start(() -> {
            try {
                Thread.sleep(quietMillis());
            } catch (InterruptedException finished) {
                return;
            }
            synchronized (said) {
                if (!said[0] && !done[0]) err.println("nemotron4j: warming up (compiling the kernels for this CPU, a few seconds)...");
                said[0] = true;
            }
        });
        try {
            model.warmUpKernels();
            more.run();
        } finally {
            notice.interrupt();
        }
        synchronized (said) {
            done[0] = true;
            if (said[0]) err.printf("nemotron4j: ready in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        }
    }

    /** How long a warm-up goes without a word (ms; {@code -Dnemotron4j.quietMillis}, read each time, for tests). */
    static long quietMillis() {
        return Long.getLong("nemotron4j.quietMillis", 1500);
    }

    void warmUp(PrintStream err) {
        warmUp(err, () -> { });
    }

    /** Whether this model is big enough for progress messages. */
    boolean reported() {
        return model.checkpoint().tensors().totalBytes() >= REPORT_BYTES;
    }

    /** The weights read and repacked ({@link NemotronModel#prepareWeights}), with progress on {@code err} for big models. */
    void prepare(PrintStream err) {
        boolean report = reported();
        int[] lastPct = {-1};
        long repacked = model.prepareWeights((done, all) -> {
            int pct = (int) Math.min(100, done * 100 / Math.max(1, all));
            // on a terminal one line is rewritten; in a log every 25 % gets its own line
            int step = INTERACTIVE ? 5 : 25;
            if (report && pct / step != lastPct[0] / step) {
                err.printf(INTERACTIVE ? "\rnemotron4j: loading weights %3d%% (%.2f / %.2f GB)" : "nemotron4j: loading weights %3d%% (%.2f / %.2f GB)%n",
                        pct, done / 1e9, all / 1e9);
                lastPct[0] = pct;
            }
        });
        if (report && INTERACTIVE) err.println();
        if (report && repacked > 0) err.printf("nemotron4j: repacked %.2f GB for the decode kernels%n", repacked / 1e9);
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
