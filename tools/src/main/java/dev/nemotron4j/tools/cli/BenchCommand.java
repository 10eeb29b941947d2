package dev.nemotron4j.tools.cli;

import dev.nemotron4j.engine.InferenceSession;
import dev.nemotron4j.engine.NemotronModel;
import dev.nemotron4j.engine.generate.Greedy;
import dev.nemotron4j.engine.kernels.ReadBandwidth;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n", footer = {"  nemotron4j bench -m model.gguf                     pp128 and tg64, 5 repetitions", "  nemotron4j bench -m model.gguf -p 512 -n 128 -r 3 -t 8 --json", "  nemotron4j bench -m model.gguf -p 0 -n 64 -d 2048   decode after 2048 cached positions",
                "  NEMOTRON4J_JAVA_OPTS=-XX:UseAVX=2 nemotron4j bench -m model.gguf   AVX2 kernels",
                "",
                "Kernel switches, to compare a step's kernels with the ones before them (bench/NOTES.md has what",
                "each measured), passed in NEMOTRON4J_JAVA_OPTS, e.g. NEMOTRON4J_JAVA_OPTS=-Dn4j.q6Groups=true:",
                "  -Dn4j.noIntDot=true      float kernels instead of the int8-activation ones",
                "  -Dn4j.noRepack=true      the file's own layout, no repacked copy of the weights",
                "  -Dn4j.floatPrefill=true  Q4_0 prefill through widened floats, not integer tiles",
                "  -Dn4j.unchainedMlp=true  a squared-ReLU MLP's two products one after the other",
                "  -Dn4j.q6Groups=true      the Q6_K copy of before Q6Words (steps 69-70)",
                "  -Dn4j.tile8x1=false      a prompt's last one-vector slab four rows at a time (step 68)",
                "  -Dn4j.quadPanels=true    8-lane integer prefill panels in the 16-lane layout (step 67)",
                "  -Dn4j.tile4x4=true       4 x 4 float tiles with 8 lanes too (they spill on AVX2)",
                "  -Dn4j.rowTiles=true      every prompt token through row-major 4 x 4 tiles",
                "  -Dn4j.oneRow=true        decode one row at a time (no Q4_0 pairs, no BF16 fours)",
                "  -Dn4j.slabMajor=false    multi-slab BF16 decode split by rows",
                "  -Dn4j.noTouch=true       Q4_0 prefill without reading the next panel ahead",
                "  -Dn4j.streams=false      decode parts handed out from one counter, not per-thread streams",
                "  -Dn4j.guided=false       fixed pool parts instead of ones that shrink",
                "  -Dn4j.taper=false        decode stretches in whole parts to their ends (step 72)",
                "  -Dn4j.parts=N            pool parts per thread (default 16)",
                "  -Dn4j.repackAvailable=B  memory taken as available when deciding the copies (default: read)"},
        description = {"Measure prefill and decode speed, like llama-bench.",
                "pp<p> runs a <p>-token prompt in one batch, tg<n> generates <n> tokens one at a time; each is "
                        + "repeated -r times after a warm-up run. With -d, each test runs after that many cached "
                        + "positions (llama-bench's pp<p> @ d<d>), so the attention over a long context is part of what "
                        + "is measured.",
                "Reports tokens/s as mean ± std and min/median/max, bytes of weights read per decoded token, and the "
                        + "memory bandwidth that decode achieved (its roofline is bandwidth ÷ bytes per token). Both "
                        + "count weights only: with -d each decoded token also reads the cached keys and values (see "
                        + "'inspect'). For prefill, which is bound by arithmetic, it reports the GFLOP/s achieved: "
                        + "two per multiply-add of the weights and of attention, as the prompt runs them (the last "
                        + "layer's attention, output projection and MLP, and the output layer, for the last token "
                        + "only).",
                "After a decode test it also measures this machine's read bandwidth right away (a plain vector sum "
                        + "on the same threads over as many bytes as a token reads, at most 1 GB; the host's speed "
                        + "drifts, so the two are taken together) and reports decode's roofline, bandwidth ÷ bytes per "
                        + "token, and the share of it reached."})
final class BenchCommand implements Callable<Integer> {
    @picocli.CommandLine.ParentCommand
    Cli parent;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-p", "--prompt-tokens"}, defaultValue = "128", paramLabel = "N",
            description = "Prompt length for the prefill test; 0 skips it (default: ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = {"-n", "--gen-tokens"}, defaultValue = "64", paramLabel = "N",
            description = "Tokens for the decode test; 0 skips it (default: ${DEFAULT-VALUE}).")
    int genTokens;

    @Option(names = {"-r", "--repetitions"}, defaultValue = "5", paramLabel = "N", description = "Runs per test (default: ${DEFAULT-VALUE}).")
    int reps;

    @Option(names = {"-d", "--depth"}, defaultValue = "0", paramLabel = "N",
            description = "Positions already in the KV cache when each test starts (default: ${DEFAULT-VALUE}).")
    int depth;

    /** Tokens per prefill call while filling the context for -d. */
    private static final int FILL_PIECE = 512;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Option(names = "--no-roofline", description = "Skip the read-bandwidth measurement after the decode test.")
    boolean noRoofline;

    /**
     * The read bandwidth is measured over as many bytes as a decoded token reads, up to this: so a model that fits in
     * the caches is compared with the caches' rate, and a large one with memory's.
     */
    private static final long BANDWIDTH_MAX_BYTES = 1L << 30;
    private static final int BANDWIDTH_PASSES = 3;

    record Stats(String test, double[] tps) {
        double mean() {
            return Arrays.stream(tps).average().orElse(0);
        }

        double std() {
            double m = mean();
            return tps.length < 2 ? 0 : Math.sqrt(Arrays.stream(tps).map(v -> (v - m) * (v - m)).sum() / (tps.length - 1));
        }

        double[] sorted() {
            double[] s = tps.clone();
            Arrays.sort(s);
            return s;
        }

        double median() {
            double[] s = sorted();
            return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (reps < 1) throw new UserException("--repetitions must be at least 1");
        if (promptTokens < 0 || genTokens < 0) throw new UserException("token counts must be >= 0");
        if (promptTokens == 0 && genTokens == 0) throw new UserException("nothing to measure: -p and -n are both 0");
        if (depth < 0) throw new UserException("--depth must be >= 0");
        try (LoadedModel lm = LoadedModel.open(modelOptions.model, modelOptions.loadOptions(), parent.err)) {
            NemotronModel m = lm.model;
            int positions = depth + Math.max(promptTokens, genTokens) + 1;
            if (positions > m.contextLength()) {
                throw new UserException("the tests need " + positions + " positions (depth " + depth + " + "
                        + Math.max(promptTokens, genTokens) + " + 1); the context holds " + m.contextLength());
            }
            lm.warmUp(parent.err);
            List<Stats> results = new ArrayList<>();
            SplittableRandom random = new SplittableRandom(1);
            int vocab = m.config().vocabSize();
            int[] prompt = random.ints(Math.max(1, promptTokens), 0, vocab).toArray();
            String at = depth > 0 ? " @ d" + depth : "";
            // the read bandwidth after each decode run (GB/s), or null where it was not measured, and its buffer's size
            double[] bandwidth = null;
            long bandwidthBytes = 0;
            try (InferenceSession s = m.newSession(positions)) {
                int[] fill = random.ints(depth, 0, vocab).toArray();
                long f0 = System.nanoTime();
                for (int done = 0; done < depth; ) { // in pieces, so a big model shows progress
                    int n = Math.min(FILL_PIECE, depth - done);
                    s.prefill(Arrays.copyOfRange(fill, done, done + n));
                    done += n;
                    if (LoadedModel.INTERACTIVE) {
                        parent.err.printf("\rbench: filling the context %d/%d (%.0f tok/s)", done, depth,
                                done / ((System.nanoTime() - f0) / 1e9));
                        if (done == depth) parent.err.println();
                    }
                }
                if (promptTokens > 0) {
                    double[] tps = new double[reps];
                    for (int r = -1; r < reps; r++) { // run -1 warms up
                        s.truncate(depth);
                        long t0 = System.nanoTime();
                        s.prefill(prompt);
                        long dt = System.nanoTime() - t0;
                        if (r >= 0) tps[r] = promptTokens / (dt / 1e9);
                        progress("pp" + promptTokens + at, r);
                    }
                    results.add(new Stats("pp" + promptTokens + at, tps));
                }
                if (genTokens > 0) {
                    double[] tps = new double[reps];
                    // the probe's buffer is written before the decode runs, each of which it then follows at once
                    Optional<ReadBandwidth> probe = noRoofline ? Optional.empty()
                            : m.readBandwidth(Math.min(m.bytesPerToken(), BANDWIDTH_MAX_BYTES));
                    bandwidth = probe.isPresent() ? new double[reps] : null;
                    for (int r = -1; r < reps; r++) {
                        s.truncate(depth);
                        float[] logits = s.prefill(new int[]{prompt[0]});
                        long t0 = System.nanoTime();
                        for (int i = 0; i < genTokens; i++) logits = s.decode(Greedy.argmax(logits, 0, vocab));
                        long dt = System.nanoTime() - t0;
                        if (r >= 0) tps[r] = genTokens / (dt / 1e9);
                        if (r >= 0 && bandwidth != null) bandwidth[r] = probe.get().gigabytesPerSecond(BANDWIDTH_PASSES);
                        progress("tg" + genTokens + at, r);
                    }
                    bandwidthBytes = probe.map(ReadBandwidth::bytes).orElse(0L);
                    results.add(new Stats("tg" + genTokens + at, tps));
                }
            }
            long bpt = m.bytesPerToken();
            // prefill's arithmetic per run (the same for every run: the same prompt after the same depth)
            double gflopPerPrefill = promptTokens > 0 ? m.prefillFlops(promptTokens, depth) / 1e9 : 0;
            // decode's share of the roofline: each run against the bandwidth measured right after it
            double share = 0, readGbs = 0;
            if (bandwidth != null) {
                Stats tg = results.get(results.size() - 1);
                for (int r = 0; r < reps; r++) share += tg.tps()[r] * bpt / 1e9 / bandwidth[r] / reps;
                readGbs = new Stats("read", bandwidth).median();
            }
            if (json) {
                try (Json j = new Json(parent.out)) {
                    var g = j.g;
                    g.writeStartObject();
                    g.writeStringField("model", modelOptions.model.toString());
                    g.writeNumberField("threads", m.threads());
                    g.writeNumberField("bytes_per_token", bpt);
                    if (bandwidth != null) g.writeNumberField("read_gigabytes_per_second", readGbs);
                    g.writeArrayFieldStart("results");
                    for (Stats s : results) {
                        g.writeStartObject();
                        g.writeStringField("test", s.test());
                        g.writeObjectFieldStart("tokens_per_second");
                        g.writeNumberField("mean", s.mean());
                        g.writeNumberField("std", s.std());
                        g.writeNumberField("min", s.sorted()[0]);
                        g.writeNumberField("median", s.median());
                        g.writeNumberField("max", s.sorted()[s.tps().length - 1]);
                        g.writeEndObject();
                        if (s.test().startsWith("pp")) {
                            g.writeNumberField("gigaflops_per_second", gflopsPerSecond(s, gflopPerPrefill));
                        }
                        if (s.test().startsWith("tg")) {
                            g.writeNumberField("gigabytes_per_second", gigabytesPerSecond(s, bpt));
                            if (bandwidth != null) g.writeNumberField("roofline_fraction", share);
                        }
                        g.writeEndObject();
                    }
                    g.writeEndArray();
                    g.writeEndObject();
                }
            } else {
                var out = parent.out;
                // the vector width says which kernels ran (16 lanes: AVX-512; 8: AVX2, bench/NOTES.md steps 63-66)
                out.printf(Locale.ROOT, "model %s (%s), %d threads, %s, %.3f GB of weights read per decoded token%n",
                        modelOptions.model, m.checkpoint().layout(), m.threads(),
                        dev.nemotron4j.engine.kernels.VectorInfo.describe(), bpt / 1e9);
                String name = depth > 0 ? "%-15s" : "%-6s";
                out.printf(Locale.ROOT, "| " + name + " | %16s | %8s | %8s | %8s | %10s | %10s |%n", "test", "tokens/s", "min",
                        "median", "max", "GB/s", "GFLOP/s");
                for (Stats s : results) {
                    boolean tg = s.test().startsWith("tg");
                    out.printf(Locale.ROOT, "| " + name + " | %8.2f ± %5.2f | %8.2f | %8.2f | %8.2f | %10s | %10s |%n", s.test(), s.mean(), s.std(),
                            s.sorted()[0], s.median(), s.sorted()[s.tps().length - 1],
                            tg ? String.format(Locale.ROOT, "%.1f", gigabytesPerSecond(s, bpt)) : "",
                            tg ? "" : String.format(Locale.ROOT, "%.1f", gflopsPerSecond(s, gflopPerPrefill)));
                }
                if (bandwidth != null) {
                    out.printf(Locale.ROOT, "read bandwidth %.1f GB/s (median; %d threads, a plain vector sum over %.0f MB, "
                            + "best of %d passes after each decode run): decode roofline %.1f tokens/s; decode reached %.0f %% "
                            + "of the bandwidth measured after each run%n", readGbs, m.threads(), bandwidthBytes / 1e6,
                            BANDWIDTH_PASSES, readGbs * 1e9 / bpt, 100 * share);
                } else if (genTokens > 0 && !noRoofline) {
                    out.println("read bandwidth not measured: too little free memory for its buffer");
                }
            }
        }
        return 0;
    }

    /** A decode test's mean rate in GB/s of weights, {@code bpt} bytes a token. */
    private static double gigabytesPerSecond(Stats s, long bpt) {
        return s.mean() * bpt / 1e9;
    }

    /** A prefill test's mean rate in GFLOP/s, {@code gflopPerPrefill} a prompt of {@link #promptTokens} tokens. */
    private double gflopsPerSecond(Stats s, double gflopPerPrefill) {
        return s.mean() / promptTokens * gflopPerPrefill;
    }

    private void progress(String test, int r) {
        if (!LoadedModel.INTERACTIVE) return; // logs get the results only
        parent.err.printf("\r%s %s %d/%d", "bench", test, r + 1, reps);
        if (r + 1 == reps) parent.err.println();
    }
}
