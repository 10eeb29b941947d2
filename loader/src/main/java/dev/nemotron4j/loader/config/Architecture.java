package dev.nemotron4j.loader.config;

/** The decoder families the engine runs. Their per-layer math differs only in the norm and the MLP. */
public enum Architecture {
    /** Nemotron-4 / Nemotron-3 / Minitron: LayerNorm1p with bias, squared-ReLU MLP, partial rotate-half RoPE. */
    NEMOTRON("nemotron", NormKind.LAYERNORM_1P, Activation.RELU2),
    /** Llama 3.1 (Llama-3.1-Nemotron-70B): RMSNorm, SwiGLU, full RoPE with optional llama3 scaling. */
    LLAMA("llama", NormKind.RMSNORM, Activation.SWIGLU);

    private final String modelType;
    private final NormKind defaultNorm;
    private final Activation defaultActivation;

    Architecture(String modelType, NormKind defaultNorm, Activation defaultActivation) {
        this.modelType = modelType;
        this.defaultNorm = defaultNorm;
        this.defaultActivation = defaultActivation;
    }

    /** The Hugging Face {@code model_type}. */
    public String modelType() {
        return modelType;
    }

    public NormKind defaultNorm() {
        return defaultNorm;
    }

    public Activation defaultActivation() {
        return defaultActivation;
    }
}
