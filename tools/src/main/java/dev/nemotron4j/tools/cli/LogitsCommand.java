package dev.nemotron4j.tools.cli;

import dev.nemotron4j.engine.InferenceSession;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

@Command(name = "logits", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n", footer = {"  nemotron4j logits -m ./model-hf --ids 1,422,9143 --all-positions > logits.json"},
        description = {"Print next-token logits as one JSON object: {\"ids\":[...],\"logits\":[[...],...]}.",
                "One row for the last position, or one per position with --all-positions."})
final class LogitsCommand implements Callable<Integer> {
    @picocli.CommandLine.ParentCommand
    Cli parent;

    @Mixin
    ModelOptions modelOptions;

    @ArgGroup(exclusive = false, multiplicity = "1")
    InputOptions input;

    @Option(names = "--all-positions", description = "A row of logits for every input position, not only the last.")
    boolean allPositions;


    @Override
    public Integer call() throws Exception {
        input.readPromptFile();   // a bad --prompt-file is said before the model loads
        var out = parent.out;
        try (LoadedModel lm = LoadedModel.open(modelOptions.model, modelOptions.loadOptions(), parent.err)) {
            int[] ids = input.ids(lm::tokenizer, lm.model.config().vocabSize());
            int vocab = lm.model.config().vocabSize();
            float[] logits;
            try (InferenceSession s = lm.model.newSession()) {
                logits = allPositions ? s.prefillAll(ids) : s.prefill(ids);
            }
            try (Json json = new Json(out)) {
                json.g.writeStartObject();
                json.ints("ids", ids);
                json.g.writeFieldName("logits");
                json.g.writeStartArray();
                for (int r = 0; r < logits.length / vocab; r++) json.floats(logits, r * vocab, vocab);
                json.g.writeEndArray();
                json.g.writeEndObject();
            }
        }
        return 0;
    }
}
