package dev.nemotron4j.engine.chat;

import dev.nemotron4j.engine.ContextOverflowException;
import dev.nemotron4j.engine.InferenceSession;
import dev.nemotron4j.engine.NemotronModel;
import dev.nemotron4j.engine.generate.GenerationResult;
import dev.nemotron4j.engine.generate.StreamListener;
import dev.nemotron4j.engine.sampling.SamplingParams;
import dev.nemotron4j.tokenizer.Tokenizer;
import dev.nemotron4j.tokenizer.chat.ChatFormat;
import dev.nemotron4j.tokenizer.chat.ChatMessage;

import java.util.ArrayList;
import java.util.List;

/**
 * A conversation with a model in its chat format. Each turn renders the whole conversation, but only the tokens
 * after the longest prefix already in the KV cache are computed, so a follow-up costs its own tokens, not the
 * history's.
 *
 * <p>Truncation policy: when the conversation plus room for the reply ({@code min(maxTokens, context/4)} tokens)
 * no longer fits the context, the oldest user/assistant exchanges are dropped (the system prompt is kept) until it
 * does; {@link #droppedTurns()} counts them. If the system prompt and the new message alone do not fit, the turn
 * fails with a {@link ContextOverflowException} and the conversation is unchanged.
 */
public final class ChatSession implements AutoCloseable {
    private final NemotronModel model;
    private final Tokenizer tokenizer;
    private final ChatFormat format;
    private final InferenceSession session;
    private final List<ChatMessage> history = new ArrayList<>();
    private String system;
    private int droppedTurns;
    private int reusedTokens;
    private int[] lastPromptIds = new int[0];

    public ChatSession(NemotronModel model, Tokenizer tokenizer, ChatFormat format, String system) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.format = format;
        this.system = system == null ? "" : system;
        this.session = model.newSession();
    }

    public ChatFormat format() {
        return format;
    }

    public List<ChatMessage> history() {
        return List.copyOf(history);
    }

    public String system() {
        return system;
    }

    /** Replaces the system prompt (the cache is reused up to where the prompt changes). */
    public void setSystem(String text) {
        this.system = text == null ? "" : text;
    }

    /** Forgets the conversation (keeps the system prompt). */
    public void reset() {
        history.clear();
        session.reset();
        droppedTurns = 0;
    }

    /** Exchanges dropped so far to stay inside the context. */
    public int droppedTurns() {
        return droppedTurns;
    }

    /** Tokens of the last turn's prompt that came from the cache instead of being recomputed. */
    public int reusedTokens() {
        return reusedTokens;
    }

    /** The ids the last turn's reply was generated from (cached prefix and new tokens). */
    public int[] lastPromptIds() {
        return lastPromptIds.clone();
    }

    /** Tokens in the KV cache now. */
    public int contextUsed() {
        return session.position();
    }

    public int contextLength() {
        return session.contextLength();
    }

    /**
     * Sends one user message and generates the reply, streaming it to {@code listener}. The reply (what was
     * generated before a stop string, end token, budget end or the listener stopping) joins the history.
     */
    public GenerationResult send(String userText, SamplingParams params, StreamListener listener) {
        List<ChatMessage> turn = new ArrayList<>(history);
        turn.add(ChatMessage.user(userText));
        int reserve = Math.max(1, Math.min(params.maxTokens(), session.contextLength() / 4));
        int[] ids = tokenizer.encode(format.render(withSystem(turn), true));
        int dropped = 0;
        while (ids.length + reserve > session.contextLength() && turn.size() > 1) {
            // drop the oldest exchange: a user message and the assistant reply after it
            turn.removeFirst();
            if (!turn.isEmpty() && turn.getFirst().role().equals("assistant")) turn.removeFirst();
            dropped++;
            ids = tokenizer.encode(format.render(withSystem(turn), true));
        }
        if (ids.length + 1 > session.contextLength()) {
            throw new ContextOverflowException(ids.length + 1, session.contextLength());
        }
        if (ids.length == 0) {
            throw new IllegalArgumentException("the chat format rendered this conversation as no text at all (a chat_template "
                    + "that prints nothing?); choose another with --chat-format");
        }
        int[] cached = session.tokens();
        if (dropped == 0 && cached.length > 0) {
            // the cache holds exactly the last prompt and reply: keep those ids and tokenize only what follows
            String rendered = format.render(withSystem(turn), true);
            String cachedText = tokenizer.decode(cached);
            if (rendered.length() > cachedText.length() && rendered.startsWith(cachedText)) {
                int[] tail = tokenizer.encodeContinuation(rendered.substring(cachedText.length()));
                if (tail.length > 0 && cached.length + tail.length + 1 <= session.contextLength()) {
                    ids = java.util.Arrays.copyOf(cached, cached.length + tail.length);
                    System.arraycopy(tail, 0, ids, cached.length, tail.length);
                }
            }
        }
        int common = 0;
        while (common < cached.length && common < ids.length && cached[common] == ids[common]) common++;
        if (common == ids.length) common--; // at least one new token must run to get next-token logits
        session.truncate(common);
        reusedTokens = common;
        lastPromptIds = ids;
        SamplingParams p = withFormatStops(params)
                .withMaxTokens(Math.min(params.maxTokens(), session.contextLength() - ids.length));
        GenerationResult r = model.generate(session, java.util.Arrays.copyOfRange(ids, common, ids.length), p, tokenizer, listener);
        history.clear();
        history.addAll(turn);
        history.add(ChatMessage.assistant(r.text()));
        droppedTurns += dropped;
        return r;
    }

    /**
     * Compiles what a reply runs besides the kernels before the first turn ({@link NemotronModel#warmUpReplies}, with
     * these sampling settings and this format's stop strings); the conversation is untouched. Returns the scratch
     * tokens generated.
     */
    public int warmUp(SamplingParams params) {
        return warmUp(params, () -> false);
    }

    /** As {@link #warmUp(SamplingParams)}, on any thread, stopping early once {@code stop} says so. */
    public int warmUp(SamplingParams params, java.util.function.BooleanSupplier stop) {
        return model.warmUpReplies(tokenizer, withFormatStops(params), stop);
    }

    /** {@code params} with the chat format's stop strings added to its own. */
    private SamplingParams withFormatStops(SamplingParams params) {
        return params.withStopStrings(merge(params.stopStrings(), format.stopStrings()));
    }

    private List<ChatMessage> withSystem(List<ChatMessage> turns) {
        List<ChatMessage> all = new ArrayList<>();
        if (!system.isEmpty()) all.add(ChatMessage.system(system)); // Nemotron's format writes an empty one itself
        all.addAll(turns);
        return all;
    }

    private static List<String> merge(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        for (String s : b) if (!out.contains(s)) out.add(s);
        return out;
    }

    @Override
    public void close() {
        session.close();
    }
}
