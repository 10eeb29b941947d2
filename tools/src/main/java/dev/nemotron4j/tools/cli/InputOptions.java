package dev.nemotron4j.tools.cli;

import dev.nemotron4j.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

import java.util.function.Supplier;

/** The model input: token ids, or text to tokenize. Exactly one. */
final class InputOptions {
    static final class Choice {
        @Option(names = "--ids", paramLabel = "ID", split = ",", splitSynopsisLabel = ",",
                description = "Token ids, comma-separated (no BOS is added).")
        int[] ids;

        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT",
                description = "Text, tokenized with the model's tokenizer (no BOS is added unless --bos).")
        String prompt;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Choice choice;

    @Option(names = "--bos", description = "Put the tokenizer's BOS id before the --prompt tokens.")
    boolean bos;

    /**
     * The ids, each checked against the model's vocabulary of {@code vocab} ids (at once, not after the warm-up);
     * {@code tokenizer} is only asked for when the input is text.
     */
    int[] ids(Supplier<Tokenizer> tokenizer, int vocab) {
        if (choice.ids != null) {
            if (bos) throw new UserException("--bos goes with --prompt; with --ids, put the BOS id first in the list");
            if (choice.ids.length == 0) throw new UserException("--ids is empty");
            for (int id : choice.ids) {
                if (id < 0 || id >= vocab) {
                    throw new UserException("--ids: token id " + id + " is outside the model's vocabulary [0, " + vocab + ")");
                }
            }
            return choice.ids;
        }
        Tokenizer tok = tokenizer.get();
        int[] ids = tok.encode(choice.prompt);
        if (bos) {
            int b = tok.bosId().orElseThrow(() -> new UserException("the tokenizer has no BOS id"));
            int[] with = new int[ids.length + 1];
            with[0] = b;
            System.arraycopy(ids, 0, with, 1, ids.length);
            ids = with;
        }
        if (ids.length == 0) throw new UserException("the prompt has no tokens");
        return ids;
    }
}
