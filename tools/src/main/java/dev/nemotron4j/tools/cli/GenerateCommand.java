package dev.nemotron4j.tools.cli;

import dev.nemotron4j.engine.generate.GenerationResult;
import dev.nemotron4j.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Continue a prompt and print the text (or, with --json, one JSON object:",
                "{\"prompt_ids\":[...],\"token_ids\":[...],\"text\":\"...\",\"stop_reason\":\"...\",\"tokens_per_second\":x})."})
final class GenerateCommand implements Callable<Integer> {
    @picocli.CommandLine.ParentCommand
    Cli parent;

    @Mixin
    ModelOptions modelOptions;

    @ArgGroup(exclusive = false, multiplicity = "1")
    InputOptions input;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "128", paramLabel = "N",
            description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", paramLabel = "T",
            description = "0 = greedy (the only mode in this version; sampling arrives with the sampler).")
    double temperature;

    @Option(names = "--json", description = "Print one JSON object instead of streaming text.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (maxTokens < 0) throw new UserException("--max-tokens must be >= 0, got " + maxTokens);
        if (temperature != 0) {
            throw new UserException("--temperature " + temperature + ": only greedy decoding (--temperature 0) is implemented so far");
        }
        try (LoadedModel lm = LoadedModel.open(modelOptions.model, modelOptions.loadOptions(), parent.err)) {
            int[] ids = input.ids(lm::tokenizer);
            Optional<Tokenizer> tok = lm.tokenizerIfAny();
            StreamingText stream = json || tok.isEmpty() ? null : new StreamingText(tok.get(), parent.out);
            GenerationResult r = lm.model.generateGreedy(ids, maxTokens, id -> {
                if (stream != null) stream.accept(id);
                return true;
            });
            String text = tok.map(t -> t.decode(r.tokenIds())).orElse("");
            if (json) {
                try (Json j = new Json(parent.out)) {
                    j.g.writeStartObject();
                    j.ints("prompt_ids", r.promptIds());
                    j.ints("token_ids", r.tokenIds());
                    j.g.writeStringField("text", text);
                    j.g.writeStringField("stop_reason", r.stopReason().jsonName());
                    j.g.writeNumberField("tokens_per_second", r.decodeTokensPerSecond());
                    j.g.writeEndObject();
                }
            } else {
                if (stream != null) {
                    stream.finish();
                } else {
                    parent.out.println(java.util.Arrays.toString(r.tokenIds()));
                }
                parent.err.printf("%n[%d prompt tokens, %d generated, %.1f ms to first token, %.2f tokens/s, stop: %s]%n",
                        r.promptIds().length, r.tokenIds().length, r.timeToFirstTokenMillis(), r.decodeTokensPerSecond(),
                        r.stopReason().jsonName());
            }
        }
        return 0;
    }
}
