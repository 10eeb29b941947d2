package dev.nemotron4j.engine.generate;

/** Why generation ended. */
public enum StopReason {
    /** The model produced an end-of-sequence token. */
    EOS,
    /** The token budget was spent. */
    MAX_TOKENS,
    /** The context window is full. */
    CONTEXT_FULL,
    /** The token listener asked to stop (a stop string matched, the user pressed Ctrl-C, ...). */
    STOPPED;

    /** The JSON spelling: "eos", "max_tokens", ... */
    public String jsonName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
