package dev.nemotron4j.tools.cli;

import dev.nemotron4j.engine.ModelTokenizers;
import dev.nemotron4j.engine.chat.ChatSession;
import dev.nemotron4j.engine.sampling.SamplingParams;
import dev.nemotron4j.tokenizer.chat.ChatFormat;
import dev.nemotron4j.tools.models.DemoModel;
import dev.nemotron4j.tools.repl.Repl;
import dev.nemotron4j.tools.repl.ReplInput;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "chat", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n", footer = {"  nemotron4j chat                                   the built-in demo model", "  nemotron4j chat -m Nemotron-Mini-4B-Instruct.gguf", "  nemotron4j chat -m ./nemotron-mini-4b-hf --system \"Answer briefly.\" -n 256", "  echo \"Hi\" | nemotron4j chat -m model.gguf          one turn per line, replies on stdout"},
        description = {"Chat with a model in its own chat format (the default command).",
                "Without --model it runs the built-in demo model: a small random-weight Nemotron-4 with a real",
                "SentencePiece tokenizer, made on first use; its words are meaningless.",
                "On a terminal: line editing, history, Ctrl-C stops a reply, /help lists commands.",
                "The prompt opens once the weights are read; the kernels compile in the background meanwhile,",
                "and the first reply waits for what is left of that (seconds, once).",
                "Piped: one turn per line; replies on stdout, speed on stderr; exit code 1 if a message",
                "was too long for the context or not UTF-8 text (the others are still answered)."})
final class ChatCommand implements Callable<Integer> {
    @picocli.CommandLine.ParentCommand
    Cli parent;

    @Option(names = {"-m", "--model"}, paramLabel = "PATH",
            description = "Model: Hugging Face folder, .gguf file, .nemo file or extracted .nemo directory (default: the demo model).")
    Path model;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Compute threads (default: all cores).")
    Integer threads;

    @Option(names = "--context", paramLabel = "N", description = "KV-cache positions (default: the model's, at most 8192).")
    Integer context;

    @Option(names = "--system", paramLabel = "TEXT", defaultValue = "", description = "System prompt.")
    String system;

    @Option(names = "--chat-format", paramLabel = "NAME", defaultValue = "auto",
            description = "auto (the model's chat_template, else its family's), nemotron, nemotron-mini, llama3 (default: ${DEFAULT-VALUE}).")
    String chatFormat;

    @Option(names = "--plain", description = "Read plain lines even on a terminal (no line editing).")
    boolean plain;

    @Mixin
    SamplingOptions sampling;

    @Override
    public Integer call() throws Exception {
        boolean demo = model == null;
        Path path = model;
        if (demo) {
            parent.err.println("nemotron4j: no --model given: using the built-in demo model (random weights, its words are meaningless)");
            path = DemoModel.ensure();
        }
        ModelOptions mo = new ModelOptions();
        mo.model = path;
        mo.threads = threads;
        mo.context = context;
        ChatFormat format;
        long t0 = System.nanoTime();
        try (LoadedModel lm = LoadedModel.open(path, mo.loadOptions(), parent.err)) {
            try {
                format = ModelTokenizers.chatFormat(lm.model.checkpoint(), lm.tokenizer(), chatFormat);
            } catch (IllegalArgumentException e) {
                throw new UserException("--chat-format: " + e.getMessage());
            }
            lm.prepare(parent.err);
            SamplingParams params = sampling.params();
            try (ChatSession chat = new ChatSession(lm.model, lm.tokenizer(), format, system);
                 ReplInput in = ReplInput.open(System.in, parent.out, plain || parent.out != System.out, historyFile());
                 // the kernels compile while the first message is typed; the first reply waits for what is left
                 BackgroundWarmUp warm = BackgroundWarmUp.start(stop -> {
                     lm.model.warmUpKernels(stop);
                     chat.warmUp(params, stop);
                 })) {
                if (lm.reported()) {
                    parent.err.printf(Locale.ROOT, "nemotron4j: loaded in %.1f s; the kernels compile in the background until the first reply%n",
                            (System.nanoTime() - t0) / 1e9);
                }
                Repl.ReplyGate awaitWarmUp = cancelled -> warm.await(() -> {
                    if (in.interactive()) parent.err.println("(finishing the warm-up: a few seconds, once; Ctrl-C cancels)");
                }, cancelled);
                Repl repl = new Repl(chat, in, parent.err, params, demo ? "the demo model" : path.toString(), awaitWarmUp);
                repl.run();
                if (!warm.done() && in.interactive()) parent.err.println("(stopping the warm-up)");
                if (!in.interactive() && repl.unanswered() > 0) {
                    // a script feeding the chat learns that not every message got its reply
                    parent.err.println("nemotron4j: " + repl.unanswered() + (repl.unanswered() == 1 ? " message was" : " messages were")
                            + " not answered (too long for the context, or not UTF-8 text: see above)");
                    return 1;
                }
            }
        }
        return 0;
    }

    private static Path historyFile() {
        return Path.of(System.getProperty("user.home"), ".nemotron4j_history");
    }
}
