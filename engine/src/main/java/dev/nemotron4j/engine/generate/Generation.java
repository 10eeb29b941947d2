package dev.nemotron4j.engine.generate;

import dev.nemotron4j.engine.ContextOverflowException;
import dev.nemotron4j.engine.InferenceSession;
import dev.nemotron4j.engine.sampling.Sampler;
import dev.nemotron4j.engine.sampling.SamplingParams;
import dev.nemotron4j.tokenizer.StreamingDecoder;
import dev.nemotron4j.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * A generation in progress, one token per {@link #next()}: the prompt is prefilled when it is created, each
 * step samples a token, releases its text and (unless generation is over) feeds it back through the model.
 * After the last token, {@link #result()} describes the whole run. Owns nothing: the session stays the caller's.
 */
public final class Generation implements Iterator<GeneratedToken> {
    private static final int[] NONE_FORBIDDEN = {};

    private final InferenceSession session;
    private final Tokenizer tokenizer;
    private final SamplingParams params;
    private final Sampler sampler;
    private final int vocab;
    private final Set<Integer> endIds;
    private final Set<Integer> eosIds;
    private final int[] forbiddenEarly;
    private final StreamingDecoder decoder;
    private final int[] promptIds;
    private final int maxStopLength;

    private float[] logits;
    private int[] context;
    private int contextLength;
    private int[] out;
    private float[] logprobs;
    private int produced;
    private final StringBuilder pending = new StringBuilder(); // decoded, not yet released
    private final StringBuilder released = new StringBuilder();
    private StopReason reason;
    private final long prefillNanos;
    private long decodeNanos;

    /**
     * @param session   holds whatever context came before; {@code newIds} are appended to it
     * @param tokenizer for text and stop strings; may be null (ids only, stop strings then unsupported)
     * @param eosIds    the model's end-of-sequence ids
     */
    public Generation(InferenceSession session, Tokenizer tokenizer, int vocab, List<Integer> eosIds, int[] newIds,
                      SamplingParams params) {
        if (newIds.length == 0 && session.position() == 0) throw new IllegalArgumentException("the prompt is empty");
        if (session.position() + newIds.length > session.contextLength()) {
            throw new ContextOverflowException(session.position() + newIds.length, session.contextLength());
        }
        if (tokenizer == null && !params.stopStrings().isEmpty()) {
            throw new IllegalArgumentException("stop strings need a tokenizer");
        }
        this.session = session;
        this.tokenizer = tokenizer;
        this.params = params;
        this.sampler = new Sampler(params);
        this.vocab = vocab;
        this.eosIds = Set.copyOf(eosIds);
        this.endIds = new java.util.HashSet<>(eosIds);
        this.endIds.addAll(params.stopTokenIds());
        this.forbiddenEarly = endIds.stream().mapToInt(Integer::intValue).toArray();
        // generated text continues the prompt: no start-of-text rules (NeMo decodes prompt and reply together)
        this.decoder = tokenizer == null ? null : tokenizer.streamingDecoder(false);
        this.promptIds = newIds.clone();
        this.maxStopLength = params.stopStrings().stream().mapToInt(String::length).max().orElse(0);
        this.out = new int[Math.min(Math.max(16, params.maxTokens()), 1 << 16)];
        this.logprobs = params.logprobs() ? new float[out.length] : null;
        int[] before = session.tokens();
        this.context = Arrays.copyOf(before, before.length + newIds.length + Math.max(16, params.maxTokens()));
        System.arraycopy(newIds, 0, context, before.length, newIds.length);
        this.contextLength = before.length + newIds.length;
        long t0 = System.nanoTime();
        if (params.maxTokens() == 0) {
            if (newIds.length > 0) session.prefill(newIds);
            reason = StopReason.MAX_TOKENS;
        } else {
            logits = newIds.length > 0 ? session.prefill(newIds) : null;
            if (logits == null) throw new IllegalArgumentException("nothing to continue from: give at least one new token");
        }
        this.prefillNanos = System.nanoTime() - t0;
    }

    @Override
    public boolean hasNext() {
        return reason == null;
    }

    @Override
    public GeneratedToken next() {
        if (reason != null) throw new NoSuchElementException("generation has ended: " + reason.jsonName());
        long t0 = System.nanoTime();
        boolean early = produced < params.minTokens();
        int id = sampler.sample(logits, vocab, context, contextLength, early ? forbiddenEarly : NONE_FORBIDDEN);
        float lp = params.logprobs() ? Sampler.logprob(logits, vocab, id) : Float.NaN;
        record(id, lp);
        String text;
        if (endIds.contains(id)) {
            reason = eosIds.contains(id) ? StopReason.EOS : StopReason.STOP;
            text = releaseAll();
        } else {
            text = decoder == null ? "" : accept(decoder.push(id), !early);
            if (reason == null && produced >= params.maxTokens()) {
                reason = StopReason.MAX_TOKENS;
                text += releaseAll();
            } else if (reason == null && session.position() >= session.contextLength()) {
                reason = StopReason.CONTEXT_FULL;
                text += releaseAll();
            }
        }
        if (reason == null) logits = session.decode(id);
        decodeNanos += System.nanoTime() - t0; // producing tokens 2..n: every step after the prefill
        return new GeneratedToken(id, text, lp);
    }

    /** Ends the generation now (the caller stopped it); held-back text is released into the result. */
    public void stop() {
        if (reason == null) {
            reason = StopReason.STOPPED;
            releaseAll();
        }
    }

    public boolean isDone() {
        return reason != null;
    }

    public GenerationResult result() {
        if (reason == null) throw new IllegalStateException("generation still running");
        return new GenerationResult(promptIds, Arrays.copyOf(out, produced), released.toString(), reason, prefillNanos,
                decodeNanos, logprobs == null ? null : Arrays.copyOf(logprobs, produced));
    }

    private void record(int id, float lp) {
        if (produced == out.length) {
            out = Arrays.copyOf(out, out.length * 2);
            if (logprobs != null) logprobs = Arrays.copyOf(logprobs, out.length);
        }
        if (logprobs != null) logprobs[produced] = lp;
        out[produced++] = id;
        if (contextLength == context.length) context = Arrays.copyOf(context, context.length * 2);
        context[contextLength++] = id;
    }

    /** Adds decoded text; returns what can be released now, holding back a possible stop-string prefix. */
    private String accept(String delta, boolean stopsActive) {
        pending.append(delta);
        if (stopsActive && maxStopLength > 0) {
            int cut = -1;
            for (String s : params.stopStrings()) {
                int at = pending.indexOf(s);
                if (at >= 0 && (cut < 0 || at < cut)) cut = at;
            }
            if (cut >= 0) {
                reason = StopReason.STOP;
                String text = pending.substring(0, cut);
                pending.setLength(0);
                released.append(text);
                return text;
            }
        }
        // before min-tokens a complete stop string is ignored (released); a possible start of one is still held
        int hold = heldBack();
        String text = pending.substring(0, pending.length() - hold);
        pending.delete(0, pending.length() - hold);
        released.append(text);
        return text;
    }

    /** Length of the longest suffix of the pending text that begins some stop string. */
    private int heldBack() {
        int best = 0;
        for (String s : params.stopStrings()) {
            for (int k = Math.min(s.length() - 1, pending.length()); k > best; k--) {
                if (pending.substring(pending.length() - k).equals(s.substring(0, k))) {
                    best = k;
                    break;
                }
            }
        }
        return best;
    }

    private String releaseAll() {
        String text = pending + (decoder == null ? "" : decoder.flush());
        pending.setLength(0);
        released.append(text);
        return text;
    }
}
