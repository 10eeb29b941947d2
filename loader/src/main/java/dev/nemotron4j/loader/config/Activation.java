package dev.nemotron4j.loader.config;

/** MLP activations. Gated ones have an extra gate projection: down(act(gate·x) ⊙ up·x). */
public enum Activation {
    /** relu(x)², no gate (Nemotron). */
    RELU2(false),
    /** silu(gate) ⊙ up (Llama). */
    SWIGLU(true);

    private final boolean gated;

    Activation(boolean gated) {
        this.gated = gated;
    }

    public boolean gated() {
        return gated;
    }
}
