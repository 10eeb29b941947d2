package dev.nemotron4j.engine.generate;

/** Why generation ended. */
public enum StopReason {
    /** The model produced an end-of-sequence token. */
    EOS,
    /** A stop string or stop token id ended the turn. */
    STOP,
    /** The token budget was spent. */
    MAX_TOKENS,
    /** The context window is full. */
    CONTEXT_FULL,
    /** The caller asked to stop (the listener returned false, the user pressed Ctrl-C, ...). */
    STOPPED;

    /** The JSON spelling: "eos", "stop", "max_tokens", ... */
    public String jsonName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
