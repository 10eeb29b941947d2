package dev.nemotron4j.loader.config;

import java.util.List;

/**
 * Everything the forward pass needs to know about a model, whatever file format it came from.
 * Checkpoint formats normalise into this; the engine reads nothing else.
 *
 * @param rotaryDim   leading dims of each head that rotate ({@code headDim × partial_rotary_factor})
 * @param ropeScaling null when frequencies are not rescaled
 * @param eosIds      every id that ends generation (Llama 3.1 has three)
 * @param ropeInterleaved rotary pairs are adjacent dims (2j, 2j+1), as in GGUF Llama files whose q/k rows were
 *                    permuted for it; false (the usual) pairs j with j + rotaryDim/2 ("rotate half")
 */
public record ModelConfig(
        Architecture architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int maxPositions,
        double normEps,
        NormKind norm,
        Activation activation,
        double ropeTheta,
        int rotaryDim,
        RopeScaling ropeScaling,
        boolean tieEmbeddings,
        int bosId,
        List<Integer> eosIds,
        boolean ropeInterleaved) {

    /** The usual rotate-half convention. */
    public ModelConfig(Architecture architecture, int vocabSize, int hiddenSize, int intermediateSize, int numLayers,
                       int numHeads, int numKvHeads, int headDim, int maxPositions, double normEps, NormKind norm,
                       Activation activation, double ropeTheta, int rotaryDim, RopeScaling ropeScaling,
                       boolean tieEmbeddings, int bosId, List<Integer> eosIds) {
        this(architecture, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim, maxPositions,
                normEps, norm, activation, ropeTheta, rotaryDim, ropeScaling, tieEmbeddings, bosId, eosIds, false);
    }

    public ModelConfig {
        eosIds = List.copyOf(eosIds);
        require(vocabSize > 0, "vocab_size must be positive, got " + vocabSize);
        require(hiddenSize > 0, "hidden_size must be positive, got " + hiddenSize);
        require(intermediateSize > 0, "intermediate_size must be positive, got " + intermediateSize);
        require(numLayers > 0, "num_hidden_layers must be positive, got " + numLayers);
        require(numHeads > 0, "num_attention_heads must be positive, got " + numHeads);
        require(numKvHeads > 0 && numHeads % numKvHeads == 0,
                "num_key_value_heads (" + numKvHeads + ") must divide num_attention_heads (" + numHeads + ")");
        require(headDim > 0, "head_dim must be positive, got " + headDim);
        require(rotaryDim >= 0 && rotaryDim <= headDim && rotaryDim % 2 == 0,
                "rotary dims (" + rotaryDim + ") must be even and at most head_dim (" + headDim + ")");
        require(maxPositions > 0, "max_position_embeddings must be positive, got " + maxPositions);
        require(normEps > 0, "norm epsilon must be positive, got " + normEps);
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    public int qDim() {
        return numHeads * headDim;
    }

    public int kvDim() {
        return numKvHeads * headDim;
    }

    /** Query heads sharing one KV head. */
    public int groupSize() {
        return numHeads / numKvHeads;
    }

    /** Weights of the model, counted from the shapes. */
    public long parameterCount() {
        long h = hiddenSize;
        long attn = h * qDim() + 2 * h * kvDim() + (long) qDim() * h;
        long mlp = (activation.gated() ? 3 : 2) * h * intermediateSize;
        long norms = (norm == NormKind.RMSNORM ? 2 : 4) * h;
        long embed = (long) vocabSize * h * (tieEmbeddings ? 1 : 2);
        return numLayers * (attn + mlp + norms) + embed + (norm == NormKind.RMSNORM ? h : 2 * h);
    }
}
