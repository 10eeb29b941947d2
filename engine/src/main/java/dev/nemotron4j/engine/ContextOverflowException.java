package dev.nemotron4j.engine;

/** The tokens do not fit in what is left of the context window. */
public final class ContextOverflowException extends IllegalArgumentException {
    private final int requested;
    private final int capacity;

    public ContextOverflowException(int requested, int capacity) {
        super("the input needs " + requested + " positions but the context holds " + capacity
                + " (shorten the prompt or raise --context up to the model's maximum)");
        this.requested = requested;
        this.capacity = capacity;
    }

    public int requested() {
        return requested;
    }

    public int capacity() {
        return capacity;
    }
}
