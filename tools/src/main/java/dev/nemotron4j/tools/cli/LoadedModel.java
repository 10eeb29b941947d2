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
        long bytes = m.bytesPerToken();
        if (bytes >= REPORT_BYTES) {
            err.printf("nemotron4j: mapped %s (%s, %.2f GB of weights) in %d ms, %d threads%n", path,
                    m.checkpoint().layout(), bytes / 1e9, (System.nanoTime() - t0) / 1_000_000, m.threads());
        }
        return new LoadedModel(m);
    }

    /**
     * Reads every weight page once (with progress for big models) so the first reply does not pay for the disk,
     * then runs one token to compile the kernels.
     */
    void warmUp(PrintStream err) {
        long total = model.checkpoint().tensors().totalBytes();
        boolean report = total >= REPORT_BYTES;
        long t0 = System.nanoTime();
        long[] done = {0};
        int[] lastPct = {-1};
        for (var t : model.checkpoint().tensors().all().values()) {
            for (var b : t.blocks()) {
                if (b.data().isMapped()) b.data().load();
                done[0] += b.data().byteSize();
            }
            int pct = (int) Math.min(100, done[0] * 100 / Math.max(1, total));
            // on a terminal one line is rewritten; in a log every 25 % gets its own line
            int step = INTERACTIVE ? 5 : 25;
            if (report && pct / step != lastPct[0] / step) {
                err.printf(INTERACTIVE ? "\rnemotron4j: loading weights %3d%% (%.2f / %.2f GB)" : "nemotron4j: loading weights %3d%% (%.2f / %.2f GB)%n",
                        pct, done[0] / 1e9, total / 1e9);
                lastPct[0] = pct;
            }
        }
        if (report && INTERACTIVE) err.println();
        // Q4_0/Q8_0 projections get their repacked copy now (the mapped pages are released as each one is done)
        long t1 = System.nanoTime();
        int[] lastRepack = {-1};
        long repacked = model.prepareWeights((d, all) -> {
            int pct = (int) (d * 100 / Math.max(1, all));
            int step = INTERACTIVE ? 5 : 25;
            if (report && (System.nanoTime() - t1) > 1_000_000_000L && pct / step != lastRepack[0] / step) {
                err.printf(INTERACTIVE ? "\rnemotron4j: repacking weights %3d%%" : "nemotron4j: repacking weights %3d%%%n", pct);
                lastRepack[0] = pct;
            }
        });
        if (report && repacked > 0) {
            err.printf((INTERACTIVE && lastRepack[0] >= 0 ? "%n" : "") + "nemotron4j: repacked %.2f GB for the integer kernels in %.1f s%n",
                    repacked / 1e9, (System.nanoTime() - t1) / 1e9);
        }
        try (var s = model.newSession(8)) {
            s.prefill(new int[]{model.config().bosId() >= 0 && model.config().bosId() < model.config().vocabSize()
                    ? model.config().bosId() : 0});
        }
        if (report) err.printf("nemotron4j: ready in %.1f s%n", (System.nanoTime() - t0) / 1e9);
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
