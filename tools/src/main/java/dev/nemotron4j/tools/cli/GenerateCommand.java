package dev.nemotron4j.tools.cli;

import dev.nemotron4j.engine.generate.GenerationResult;
import dev.nemotron4j.engine.sampling.SamplingParams;
import dev.nemotron4j.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "generate", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n", footer = {"  nemotron4j generate -m model.gguf -p \"Once upon a time\" -n 64", "  nemotron4j generate -m model.gguf --ids 1,422,9143 --temperature 0 --json", "  nemotron4j generate -m model.gguf -f story.txt -n 128      (or -f - to read the prompt from standard input)"},
        description = {"Continue a raw prompt (text or token ids), streaming the text.",
                "With --json, print one JSON object instead:",
                "  {\"prompt_ids\":[...],\"token_ids\":[...],\"text\":\"...\",\"stop_reason\":\"...\",",
                "   \"tokens_per_second\":x,\"prefill_tokens_per_second\":x,\"time_to_first_token_ms\":x}",
                "  (and \"logprobs\":[...] with --logprobs).",
                "The prompt is used as it is: no chat format (see 'chat'), no BOS unless --bos."})
final class GenerateCommand implements Callable<Integer> {
    @picocli.CommandLine.ParentCommand
    Cli parent;

    @Mixin
    ModelOptions modelOptions;

    @ArgGroup(exclusive = false, multiplicity = "1")
    InputOptions input;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--json", description = "Print one JSON object instead of streaming text.")
    boolean json;

    @Option(names = "--logprobs", description = "With --json, add \"logprobs\": log p of each generated token.")
    boolean logprobs;

    @Override
    public Integer call() throws Exception {
        input.readPromptFile();   // a bad --prompt-file is said before the model loads
        SamplingParams params = sampling.params().withLogprobs(logprobs);
        try (LoadedModel lm = LoadedModel.open(modelOptions.model, modelOptions.loadOptions(), parent.err)) {
            int[] ids = input.ids(lm::tokenizer, lm.model.config().vocabSize());
            Tokenizer tok = lm.tokenizerIfAny().orElse(null);
            if (tok == null && !params.stopStrings().isEmpty()) {
                throw new UserException("--stop needs the model's tokenizer, and " + modelOptions.model + " has none");
            }
            // as chat and bench do: weights paged in and repacked, and the decode path compiled before the first
            // multi-token prompt (compiling the prefill kernels first cost 4B decode ~20 %, bench/NOTES.md step 21)
            lm.warmUp(parent.err, () -> lm.model.warmUpReplies(tok, params));
            boolean stream = !json && tok != null;
            GenerationResult r = lm.model.generate(ids, params, tok, t -> {
                if (stream) {
                    parent.out.print(t.text());
                    parent.out.flush();
                }
                return true;
            });
            if (json) {
                try (Json j = new Json(parent.out)) {
                    j.g.writeStartObject();
                    j.ints("prompt_ids", r.promptIds());
                    j.ints("token_ids", r.tokenIds());
                    j.g.writeStringField("text", r.text());
                    j.g.writeStringField("stop_reason", r.stopReason().jsonName());
                    j.g.writeNumberField("tokens_per_second", r.decodeTokensPerSecond());
                    j.g.writeNumberField("prefill_tokens_per_second", r.prefillTokensPerSecond());
                    j.g.writeNumberField("time_to_first_token_ms", r.timeToFirstTokenMillis());
                    if (r.logprobs() != null) {
                        j.g.writeArrayFieldStart("logprobs");
                        for (float lp : r.logprobs()) j.g.writeNumber(lp);
                        j.g.writeEndArray();
                    }
                    j.g.writeEndObject();
                }
            } else {
                if (!stream) parent.out.print(java.util.Arrays.toString(r.tokenIds()));
                parent.out.println();
                parent.err.printf(Locale.ROOT, "[%d prompt tokens at %.1f tok/s, %d generated at %.2f tok/s, %.0f ms to first token, stop: %s]%n",
                        r.promptIds().length, r.prefillTokensPerSecond(), r.tokenIds().length, r.decodeTokensPerSecond(),
                        r.timeToFirstTokenMillis(), r.stopReason().jsonName());
            }
        }
        return 0;
    }
}
