package dev.nemotron4j.tools.cli;

import dev.nemotron4j.engine.model.ModelWeights;
import dev.nemotron4j.engine.parallel.ShardPlan;
import dev.nemotron4j.loader.Checkpoint;
import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.CheckpointLoader;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.tensor.DType;
import dev.nemotron4j.loader.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n", footer = {"  nemotron4j inspect -m model.gguf"},
        description = {"Describe a model: architecture, file layout, shapes, dtypes, parameter count and bytes.",
                "Also checks that every tensor the forward pass needs is there with the shape and type it",
                "needs, and that the tokenizer opens and fits the vocabulary (as loading for generation would);",
                "exits 2 (bad input) with the problem when one is not."})
final class InspectCommand implements Callable<Integer> {
    @picocli.CommandLine.ParentCommand
    Cli parent;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH", description = "Model: Hugging Face folder, .gguf file, .nemo file or extracted .nemo directory.")
    Path model;

    @Option(names = "--tensors", description = "Also list every tensor with its dtype and shape.")
    boolean tensors;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        try (Checkpoint ck = CheckpointLoader.open(model)) {
            ModelConfig c = ck.config();
            Map<DType, Long> bytesByDtype = new TreeMap<>();
            long bytes = 0, params = 0;
            for (Tensor t : ck.tensors().all().values()) {
                bytesByDtype.merge(t.dtype(), t.byteSize(), Long::sum);
                bytes += t.byteSize();
                params += t.numel();
            }
            long kvPerToken = 2L * c.numLayers() * c.kvDim() * 4;
            String problem = weightsProblem(ck);
            if (problem == null) problem = tokenizerProblem(ck);
            if (json) {
                try (Json j = new Json(parent.out)) {
                    var g = j.g;
                    g.writeStartObject();
                    g.writeStringField("path", ck.path().toString());
                    g.writeStringField("layout", ck.layout());
                    g.writeStringField("architecture", c.architecture().modelType());
                    g.writeNumberField("layers", c.numLayers());
                    g.writeNumberField("hidden_size", c.hiddenSize());
                    g.writeNumberField("intermediate_size", c.intermediateSize());
                    g.writeNumberField("attention_heads", c.numHeads());
                    g.writeNumberField("kv_heads", c.numKvHeads());
                    g.writeNumberField("head_dim", c.headDim());
                    g.writeNumberField("rotary_dims", c.rotaryDim());
                    g.writeNumberField("vocab_size", c.vocabSize());
                    g.writeNumberField("context", c.maxPositions());
                    g.writeStringField("norm", c.norm().name().toLowerCase());
                    g.writeStringField("activation", c.activation().name().toLowerCase());
                    g.writeNumberField("parameters", params);
                    g.writeNumberField("bytes", bytes);
                    g.writeObjectFieldStart("bytes_by_dtype");
                    for (var e : bytesByDtype.entrySet()) g.writeNumberField(e.getKey().name(), e.getValue());
                    g.writeEndObject();
                    g.writeNumberField("tensor_count", ck.tensors().size());
                    g.writeBooleanField("tokenizer", ck.tokenizer().isPresent());
                    g.writeBooleanField("weights_ok", problem == null);
                    if (problem != null) g.writeStringField("weights_problem", problem);
                    if (tensors) {
                        g.writeObjectFieldStart("tensors");
                        for (Tensor t : ck.tensors().all().values()) {
                            g.writeObjectFieldStart(t.name());
                            g.writeStringField("dtype", t.dtype().name());
                            g.writeFieldName("shape");
                            g.writeArray(t.shape(), 0, t.rank());
                            g.writeEndObject();
                        }
                        g.writeEndObject();
                    }
                    g.writeEndObject();
                }
                return exit(problem);
            }
            var out = parent.out;
            out.printf("model         %s%n", ck.path());
            out.printf("layout        %s%n", ck.layout());
            out.printf("architecture  %s (%s, %s)%n", c.architecture().modelType(), c.norm().name().toLowerCase(),
                    c.activation().name().toLowerCase());
            out.printf("layers        %d%n", c.numLayers());
            out.printf("hidden        %d, ffn %d%n", c.hiddenSize(), c.intermediateSize());
            out.printf("attention     %d heads, %d KV heads (%s), head_dim %d, rotary dims %d, theta %s%s%n",
                    c.numHeads(), c.numKvHeads(), c.numHeads() == c.numKvHeads() ? "MHA" : "GQA", c.headDim(),
                    c.rotaryDim(), c.ropeTheta(), c.ropeScaling() == null ? "" : ", scaling " + c.ropeScaling());
            out.printf("vocab         %d, context %d, tied embeddings %s%n", c.vocabSize(), c.maxPositions(), c.tieEmbeddings());
            out.printf("parameters    %,d (%.2f B)%n", params, params / 1e9);
            out.printf("weights       %,d bytes (%.2f GB): %s%n", bytes, bytes / 1e9, bytesByDtype);
            out.printf("KV cache      %,d bytes per token (F32), %.2f GB at %d positions%n", kvPerToken,
                    kvPerToken * (double) Math.min(c.maxPositions(), 8192) / 1e9, Math.min(c.maxPositions(), 8192));
            out.printf("tokenizer     %s%n", ck.tokenizer().map(t -> t.kind() + " " + t.name()).orElse("none"));
            out.printf("tensors       %d%n", ck.tensors().size());
            out.printf("check         %s%n", problem == null ? "ok: every tensor the forward pass needs, in the shape and type it needs"
                    : "PROBLEM: " + problem);
            if (tensors) {
                for (Tensor t : ck.tensors().all().values()) {
                    out.printf("  %-60s %-5s %s%n", t.name(), t.dtype(), Arrays.toString(t.shape()));
                }
            }
            return exit(problem);
        }
    }

    /** Binds the weights as loading would (no copy, no repacking): null when they fit the architecture, else why not. */
    static String weightsProblem(Checkpoint ck) {
        try {
            ModelWeights.bind(ck.tensors(), ck.config(), ShardPlan.whole(ck.config()));
            return null;
        } catch (CheckpointException | IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    /** Opens the tokenizer as generation would: null when it opens and fits the model (or there is none), else why not. */
    static String tokenizerProblem(Checkpoint ck) {
        try (var tok = dev.nemotron4j.engine.ModelTokenizers.open(ck).orElse(null)) {
            return null;
        } catch (dev.nemotron4j.tokenizer.TokenizerException e) {
            return e.getMessage();
        }
    }

    private int exit(String problem) {
        if (problem == null) return 0;
        parent.err.println("nemotron4j: this model cannot run: " + problem);
        return Cli.EXIT_USER;   // as generate would exit on the same file
    }
}
