package dev.nemotron4j.tools.cli;

import dev.nemotron4j.loader.Checkpoint;
import dev.nemotron4j.loader.CheckpointLoader;
import dev.nemotron4j.loader.gguf.GgufWriter;
import dev.nemotron4j.tools.convert.GgufExporter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "quantize", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n", footer = {"  nemotron4j quantize -m ./nemotron-mini-4b-hf --type q4_0 --out mini4b-q4_0.gguf", "  nemotron4j quantize -m Nemotron-3-8B-Chat-4k.nemo --type q8_0 --out n3-8b-q8_0.gguf"},
        description = {"Write a model as a GGUF file (q8_0, q4_0, bf16, f16, f32) that llama.cpp loads.",
                "q4_0 keeps the output layer in q6_k, as llama.cpp does. The source can be a Hugging Face folder,",
                "a .nemo, or a GGUF."})
final class QuantizeCommand implements Callable<Integer> {
    @picocli.CommandLine.ParentCommand
    Cli parent;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "SRC", description = "Source checkpoint.")
    Path model;

    @Option(names = "--type", required = true, paramLabel = "TYPE", description = "q8_0, q4_0, bf16, f16 or f32.")
    String type;

    @Option(names = "--out", required = true, paramLabel = "FILE.gguf", description = "File to write.")
    Path out;

    /** The first block-quantized type among the source's tensors, if any (the Q6_K output layer of a Q4_0 file, say). */
    static java.util.Optional<String> quantizedSource(Checkpoint ck) {
        return ck.tensors().all().values().stream().map(t -> t.dtype())
                .filter(d -> d != dev.nemotron4j.loader.tensor.DType.F32 && d != dev.nemotron4j.loader.tensor.DType.F16
                        && d != dev.nemotron4j.loader.tensor.DType.BF16)
                .map(Object::toString).findFirst();
    }

    @Override
    public Integer call() throws Exception {
        GgufExporter.Target target;
        try {
            target = GgufExporter.Target.valueOf(type.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserException("--type " + type + ": expected q8_0, q4_0, bf16, f16 or f32");
        }
        if (!out.getFileName().toString().endsWith(".gguf")) throw new UserException("--out should name a .gguf file");
        if (Files.exists(out)) throw new UserException(out + " exists; choose another --out");
        OutputPaths.requireParentFolder(out);
        try (Checkpoint ck = CheckpointLoader.open(model)) {
            parent.err.printf("quantizing %s (%s) to %s as %s%n", model, ck.layout(), out, target);
            if (ck.tokenizer().isEmpty()) {
                parent.err.println("nemotron4j: warning: " + model + " has no tokenizer; writing a placeholder vocabulary "
                        + "so that llama.cpp loads the file (token ids keep their meaning, text does not)");
            }
            quantizedSource(ck).ifPresent(q -> parent.err.println("nemotron4j: warning: " + model + " is already quantized ("
                    + q + "); quantizing it again adds a second rounding error (quantize from the original weights if you have them)"));
            long t0 = System.nanoTime();
            try (OutputPaths.Cleanup c = OutputPaths.deleteIfInterrupted(out.resolveSibling(out.getFileName() + ".partial"))) {
                GgufExporter.export(ck, out, target, percentSteps(parent.err, ck.tensors().totalBytes()));
            }
            parent.err.printf("wrote %.2f GB in %.1f s%n", Files.size(out) / 1e9, (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }

    /** Progress of a GGUF export in steps of 10 % on {@code err}, where its source holds 256 MB or more. */
    static GgufWriter.Progress percentSteps(java.io.PrintStream err, long sourceBytes) {
        int[] lastPct = {-1};
        return (done, all) -> {
            int pct = (int) Math.min(100, done * 100 / Math.max(1, all));
            if (sourceBytes > (1L << 28) && pct / 10 != lastPct[0] / 10) {
                err.printf("  %d%%%n", pct);
                lastPct[0] = pct;
            }
        };
    }
}
