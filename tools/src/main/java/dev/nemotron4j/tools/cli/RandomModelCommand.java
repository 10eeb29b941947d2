package dev.nemotron4j.tools.cli;

import dev.nemotron4j.loader.gguf.GgufWriter;
import dev.nemotron4j.loader.tensor.DType;
import dev.nemotron4j.tools.models.Preset;
import dev.nemotron4j.tools.convert.GgufExporter;
import dev.nemotron4j.tools.models.RandomModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "random-model", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n", footer = {"  nemotron4j random-model --preset nemotron-small --out small-bf16.gguf", "  nemotron4j random-model --preset nemotron-mini-4b --dtype q4_0 --out mini4b-q4_0.gguf", "  nemotron4j random-model --preset nemotron-mini-4b --dtype f32 --out ./mini4b-random"},
        description = {"Write random weights in the true shapes of a published model, to benchmark without downloading.",
                "Uniform weights with std 0.02, as a Hugging Face folder or a .gguf file. Presets: nemotron-small,",
                "nemotron-mini-4b, minitron-8b, nemotron-4-15b, nemotron-3-8b, llama-3.1-8b."})
final class RandomModelCommand implements Callable<Integer> {
    @picocli.CommandLine.ParentCommand
    Cli parent;

    @Option(names = "--preset", required = true, paramLabel = "NAME", description = "Model shape.")
    String preset;

    @Option(names = "--dtype", defaultValue = "bf16", paramLabel = "TYPE",
            description = "bf16, f16 or f32; for a .gguf also q8_0 or q4_0 (output layer in q6_k) (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--out", required = true, paramLabel = "DIR|FILE.gguf",
            description = "Folder to create (Hugging Face layout), or a .gguf file.")
    Path out;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    /** The weights' standard deviation, as the help says. */
    private static final double STD = 0.02;

    @Override
    public Integer call() throws Exception {
        Preset p;
        try {
            p = Preset.byId(preset);
        } catch (IllegalArgumentException e) {
            throw new UserException(e.getMessage());
        }
        GgufExporter.Target target;
        try {
            target = GgufExporter.Target.valueOf(dtype.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserException("--dtype " + dtype + ": expected bf16, f16, f32, q8_0 or q4_0");
        }
        DType t = target.type();
        boolean gguf = out.getFileName().toString().endsWith(".gguf");
        if (!gguf && t.blockSize() > 1) {
            throw new UserException("--dtype " + dtype + " makes a .gguf file only (a Hugging Face folder holds bf16, f16 "
                    + "or f32); give --out a name ending in .gguf");
        }
        if (gguf) {
            if (Files.exists(out)) throw new UserException(out + " already exists; choose another --out");
            OutputPaths.requireParentFolder(out);
        } else {
            OutputPaths.requireNewFolder(out);
        }
        long bytes = t.bytesFor(p.config().parameterCount() / t.blockSize() * t.blockSize()); // matrices; norms (F32) and Q4_0's Q6_K output layer aside
        parent.err.printf("writing %s (%,d parameters, %.2f GB %s) to %s ...%n", p.id(), p.config().parameterCount(),
                bytes / 1e9, t, out);
        long t0 = System.nanoTime();
        if (gguf) {
            writeGguf(out, p.config(), target, seed, QuantizeCommand.percentSteps(parent.err, bytes));
        } else {
            // a folder this command made (or found empty) goes again if it is stopped half-way
            boolean existed = Files.isDirectory(out);
            try (OutputPaths.Cleanup c = existed ? () -> { } : OutputPaths.deleteIfInterrupted(out)) {
                RandomModel.write(out, p.config(), t, STD, seed);
            }
        }
        parent.err.printf("done in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    /**
     * Random weights of {@code config} as a GGUF file of {@code target}'s type, each row made as it is written
     * ({@link RandomModel#weights}) and quantized as {@code quantize} quantizes, with a placeholder vocabulary as
     * {@code quantize} writes for a model that has no tokenizer: a BF16, F16 or F32 file holds the same model as a folder
     * written with the same seed, and no file needs disk beside its own. {@code progress} as {@link GgufExporter#export}'s.
     */
    static void writeGguf(Path out, dev.nemotron4j.loader.config.ModelConfig config, GgufExporter.Target target, long seed,
                          GgufWriter.Progress progress) throws java.io.IOException {
        try (OutputPaths.Cleanup partial = OutputPaths.deleteIfInterrupted(out.resolveSibling(out.getFileName() + ".partial"))) {
            String name = out.getFileName().toString().replaceFirst("\\.gguf$", "");
            GgufExporter.export(config, name, GgufExporter.placeholderVocabulary(config.vocabSize()),
                    RandomModel.weights(config, STD, seed), out, target, progress);
        }
    }
}
