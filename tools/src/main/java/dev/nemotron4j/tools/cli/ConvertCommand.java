package dev.nemotron4j.tools.cli;

import dev.nemotron4j.engine.GgufTokenizers;
import dev.nemotron4j.loader.Checkpoint;
import dev.nemotron4j.loader.CheckpointLoader;
import dev.nemotron4j.loader.TokenizerAsset;
import dev.nemotron4j.loader.safetensors.HfExporter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "convert", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n", footer = {"  nemotron4j convert -m Nemotron-3-8B-Chat-4k.nemo --out ./nemotron-3-8b-hf"},
        description = {"Write any supported checkpoint as a Hugging Face folder.",
                "config.json (model_type nemotron/llama), safetensors shards with HF names and split q/k/v, and the",
                "tokenizer; from a .nemo file or directory (or another HF folder). Loads faster, same logits."})
final class ConvertCommand implements Callable<Integer> {
    @picocli.CommandLine.ParentCommand
    Cli parent;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH", description = "Source checkpoint.")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to write (must be empty or absent).")
    Path out;

    @Option(names = "--shard-size", defaultValue = "5", paramLabel = "GB",
            description = "Largest safetensors file, in GB (default: ${DEFAULT-VALUE}).")
    double shardGb;

    @Override
    public Integer call() throws Exception {
        if (!(shardGb > 0) || Double.isInfinite(shardGb)) throw new UserException("--shard-size must be a positive number of GB");
        OutputPaths.requireNewFolder(out);
        try (Checkpoint ck = CheckpointLoader.open(model)) {
            var quantized = QuantizeCommand.quantizedSource(ck);
            if (quantized.isPresent()) {
                throw new UserException(model + " holds " + quantized.get() + " weights, which safetensors cannot hold; "
                        + "convert writes F32/F16/BF16 only (run the GGUF as it is, or convert from the unquantized original)");
            }
            long total = ck.tensors().totalBytes();
            parent.err.printf("converting %s (%s, %.2f GB) to %s%n", model, ck.layout(), total / 1e9, out);
            long t0 = System.nanoTime();
            // a GGUF's tokenizer is metadata: the file it describes, made before the weights are written (if it fails)
            var tok = ck.tokenizer().orElse(null);
            GgufTokenizers.TokenizerFile tokenizerFile = tok != null && tok.kind() == TokenizerAsset.Kind.GGUF_METADATA
                    ? GgufTokenizers.toFile(tok.ggufMetadata(), tok.name()) : null;
            boolean existed = Files.isDirectory(out);
            boolean done = false;
            try (OutputPaths.Cleanup c = existed ? () -> { } : OutputPaths.deleteIfInterrupted(out)) {
                HfExporter.export(ck, out, (long) (shardGb * 1e9), written -> {
                    if (total > 1L << 30) parent.err.printf("  %.2f / %.2f GB%n", written / 1e9, total / 1e9);
                });
                if (tokenizerFile != null) Files.write(out.resolve(tokenizerFile.name()), tokenizerFile.bytes());
                done = true;
            } catch (IOException e) {
                throw new UserException("writing " + out + ": " + e.getMessage() + "; nothing of it was kept");
            } finally {
                // a failed conversion leaves nothing behind: the folder if this command made it, else what it put in it
                if (!done) {
                    if (existed) OutputPaths.deleteContents(out);
                    else OutputPaths.deleteTree(out);
                }
            }
            parent.err.printf("done in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }
}
