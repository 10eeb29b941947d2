package dev.nemotron4j.tools.repl;

import dev.nemotron4j.engine.ContextOverflowException;
import dev.nemotron4j.engine.chat.ChatSession;
import dev.nemotron4j.engine.generate.GenerationResult;
import dev.nemotron4j.engine.generate.StopReason;
import dev.nemotron4j.engine.sampling.SamplingParams;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Locale;

/**
 * The chat loop: read a turn, stream the reply, report its speed. Lines starting with '/' are commands
 * (see {@link #HELP}).
 */
public final class Repl {
    static final String HELP = """
            /reset                 forget the conversation
            /system [TEXT]         show or set the system prompt
            /set NAME VALUE        temperature, top_k, top_p, min_p, repetition_penalty, seed, max_tokens, min_tokens
            /stats                 context use and the last reply's speed
            /quit                  leave (also /exit, Ctrl-D)
            Multi-line input: end a line with \\ to continue it, or put the text between lines of \"\"\".
            Ctrl-C stops the reply being written.""";

    private final ChatSession chat;
    private final ReplInput input;
    private final PrintStream err;
    private final String modelLabel;
    private final ReplyGate beforeReply;
    private SamplingParams params;
    private GenerationResult last;
    private int turns;
    private int unanswered;

    public Repl(ChatSession chat, ReplInput input, PrintStream err, SamplingParams params, String modelLabel) {
        this(chat, input, err, params, modelLabel, cancelled -> true);
    }

    /** What a reply waits for before it is generated. */
    @FunctionalInterface
    public interface ReplyGate {
        /**
         * Returns true once the reply may be generated, or false to drop the message unsent because {@code cancelled}
         * (the user's Ctrl-C) said true while it waited.
         */
        boolean ready(java.util.function.BooleanSupplier cancelled);
    }

    /**
     * @param beforeReply asked before each reply is generated: `chat` waits there for a warm-up still running in the
     *                    background (see {@code BackgroundWarmUp}), and a Ctrl-C meanwhile drops the message unsent
     */
    public Repl(ChatSession chat, ReplInput input, PrintStream err, SamplingParams params, String modelLabel,
                ReplyGate beforeReply) {
        this.beforeReply = beforeReply;
        this.chat = chat;
        this.input = input;
        this.err = err;
        this.params = params;
        this.modelLabel = modelLabel;
    }

    public SamplingParams params() {
        return params;
    }

    /**
     * Messages dropped because they did not fit the context or were not UTF-8 text (a piped chat exits 1 when there
     * were any).
     */
    public int unanswered() {
        return unanswered;
    }

    /** Runs until /quit or end of input. */
    public void run() throws IOException {
        PrintStream out = input.out();
        if (input.interactive()) {
            out.println("Chatting with " + modelLabel + " (" + chat.format().name() + " format). /help for commands.");
        }
        while (true) {
            String turn;
            try {
                turn = input.readTurn();
            } catch (ReplInput.NotUtf8Exception e) {
                unanswered++;
                err.println("nemotron4j: " + e.getMessage() + ": that message was not sent (the chat goes on)");
                continue;
            }
            if (turn == null) break;
            String t = turn.strip();
            if (t.isEmpty()) continue;
            if (t.startsWith("/")) {
                if (!command(t, out)) break;
                continue;
            }
            reply(turn, out);
        }
    }

    private void reply(String text, PrintStream out) {
        input.interruptFlag().set(false);
        if (!beforeReply.ready(() -> input.interruptFlag().get())) {
            err.println("(cancelled: the message was not sent; the warm-up goes on)");
            return;
        }
        try {
            GenerationResult r = chat.send(text, params, tok -> {
                out.print(tok.text());
                out.flush();
                return !input.interruptFlag().get();
            });
            out.println();
            last = r;
            turns++;
            String note = r.stopReason() == StopReason.STOPPED ? " (stopped)" : r.stopReason() == StopReason.CONTEXT_FULL
                    ? " (context full: /reset to start over)" : r.stopReason() == StopReason.MAX_TOKENS ? " (max tokens reached)" : "";
            String stats = String.format(Locale.ROOT, "[%d tokens, %.1f tok/s, first token after %.0f ms, %d/%d context%s%s]",
                    r.tokenIds().length, r.decodeTokensPerSecond(), r.timeToFirstTokenMillis(), chat.contextUsed(),
                    chat.contextLength(), chat.droppedTurns() > 0 ? ", " + chat.droppedTurns() + " old turns dropped" : "", note);
            (input.interactive() ? out : err).println(stats);
        } catch (ContextOverflowException e) {
            unanswered++;
            err.println("nemotron4j: this message does not fit the context: it needs " + e.requested() + " positions, the context holds "
                    + e.capacity() + " (shorten it, /reset, or start again with a larger --context)");
        }
    }

    /** Returns false to quit. */
    private boolean command(String line, PrintStream out) {
        String[] parts = line.split("\\s+", 3);
        switch (parts[0].toLowerCase(Locale.ROOT)) {
            case "/quit", "/exit", "/bye" -> {
                return false;
            }
            case "/help", "/?" -> out.println(HELP);
            case "/reset", "/clear" -> {
                chat.reset();
                out.println("(conversation cleared)");
            }
            case "/system" -> {
                if (parts.length == 1) {
                    out.println(chat.system().isEmpty() ? "(no system prompt)" : chat.system());
                } else {
                    chat.setSystem(line.substring(line.indexOf(' ') + 1).strip());
                    out.println("(system prompt set)");
                }
            }
            case "/set" -> {
                if (parts.length < 3) {
                    out.println("usage: /set NAME VALUE (" + settings() + ")");
                } else {
                    try {
                        params = set(params, parts[1], parts[2].strip());
                        out.println("(" + settings() + ")");
                    } catch (IllegalArgumentException e) {
                        out.println("cannot set " + parts[1] + ": " + e.getMessage());
                    }
                }
            }
            case "/stats" -> {
                out.printf(Locale.ROOT, "model %s, format %s%ncontext %d / %d tokens, %d turns, %d dropped, %d tokens reused last turn%n",
                        modelLabel, chat.format().name(), chat.contextUsed(), chat.contextLength(), turns,
                        chat.droppedTurns(), chat.reusedTokens());
                if (last != null) {
                    out.printf(Locale.ROOT, "last reply: %d tokens, %.2f tok/s decode, %.0f ms to first token, stop: %s%n",
                            last.tokenIds().length, last.decodeTokensPerSecond(), last.timeToFirstTokenMillis(),
                            last.stopReason().jsonName());
                }
                out.println(settings());
            }
            default -> out.println("unknown command " + parts[0] + "; /help lists them");
        }
        return true;
    }

    String settings() {
        return String.format(Locale.ROOT, "temperature %s, top_k %d, top_p %s, min_p %s, repetition_penalty %s, seed %d, max_tokens %d, min_tokens %d",
                params.temperature(), params.topK(), params.topP(), params.minP(), params.repetitionPenalty(), params.seed(),
                params.maxTokens(), params.minTokens());
    }

    static SamplingParams set(SamplingParams p, String name, String value) {
        try {
            return switch (name.toLowerCase(Locale.ROOT).replace('-', '_')) {
                case "temperature", "temp" -> p.withTemperature(Double.parseDouble(value));
                case "top_k" -> p.withTopK(Integer.parseInt(value));
                case "top_p" -> p.withTopP(Double.parseDouble(value));
                case "min_p" -> p.withMinP(Double.parseDouble(value));
                case "repetition_penalty", "repeat_penalty" -> p.withRepetitionPenalty(Double.parseDouble(value));
                case "seed" -> p.withSeed(Long.parseLong(value));
                case "max_tokens" -> p.withMaxTokens(Integer.parseInt(value));
                case "min_tokens" -> p.withMinTokens(Integer.parseInt(value));
                default -> throw new IllegalArgumentException("unknown setting (one of temperature, top_k, top_p, min_p, "
                        + "repetition_penalty, seed, max_tokens, min_tokens)");
            };
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + value + "' is not a number");
        }
    }
}
