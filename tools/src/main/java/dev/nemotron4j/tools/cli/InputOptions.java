package dev.nemotron4j.tools.cli;

import dev.nemotron4j.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/** The model input: token ids, or text (given, or read from a file or standard input) to tokenize. Exactly one. */
final class InputOptions {
    static final class Choice {
        @Option(names = "--ids", paramLabel = "ID", split = ",", splitSynopsisLabel = ",",
                description = "Token ids, comma-separated (no BOS is added).")
        int[] ids;

        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT",
                description = "Text, tokenized with the model's tokenizer (no BOS is added unless --bos).")
        String prompt;

        @Option(names = {"-f", "--prompt-file"}, paramLabel = "FILE",
                description = "Read the prompt text from FILE (UTF-8; '-' reads standard input), as --prompt would take it.")
        String promptFile;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Choice choice;

    @Option(names = "--bos", description = "Put the tokenizer's BOS id before the --prompt tokens.")
    boolean bos;

    /**
     * Reads {@code --prompt-file} now, before the model loads (seconds for a big one), so that a missing or unreadable
     * file is said at once; {@link #ids} then tokenizes the text read. Nothing to do for the other inputs.
     */
    void readPromptFile() {
        if (choice.promptFile != null && choice.prompt == null) {
            java.io.Console console = System.console();
            String hint = stdinHint(choice.promptFile, console != null && console.isTerminal());
            if (hint != null) System.err.println(hint);
            choice.prompt = promptText(choice.promptFile, System.in);
        }
    }

    /**
     * What to say before {@code --prompt-file -} reads a terminal, which otherwise just waits for the end of input with
     * nothing on the screen; null for a file, or for standard input that is a pipe or a file.
     */
    static String stdinHint(String file, boolean terminal) {
        return file.equals("-") && terminal
                ? "nemotron4j: reading the prompt from standard input; end it with Ctrl-D (Ctrl-Z, Enter on Windows)"
                : null;
    }

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
        readPromptFile();
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

    /**
     * Picocli's message for an input given twice or not at all, said plainly (its own prints the whole argument
     * group twice); any other message as it is.
     */
    static String plainMessage(String picocli) {
        if (!picocli.contains("--ids") || !picocli.contains("-f=FILE")) return picocli;
        if (picocli.contains("expected only one match") || picocli.contains("mutually exclusive")) {
            return "Error: give only one of --ids, --prompt (-p) and --prompt-file (-f)";
        }
        if (picocli.contains("Missing required")) {
            return "Error: no input: give --ids, --prompt (-p) or --prompt-file (-f)";
        }
        return picocli;
    }

    /** The text of {@code --prompt-file}: the file's, or {@code stdin}'s for "-", as UTF-8 that must decode cleanly. */
    static String promptText(String file, InputStream stdin) {
        byte[] bytes;
        String name = file.equals("-") ? "standard input" : file;
        try {
            if (file.equals("-")) {
                bytes = stdin.readAllBytes();
            } else {
                Path path = Path.of(file);
                if (!Files.isRegularFile(path)) {
                    throw new UserException("--prompt-file: " + file + (Files.exists(path) ? " is not a file" : " does not exist"));
                }
                bytes = Files.readAllBytes(path);
            }
        } catch (IOException e) {
            throw new UserException("--prompt-file: cannot read " + name + ": " + e.getMessage());
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new UserException("--prompt-file: " + name + " is not UTF-8 text");
        }
    }
}
