package dev.nemotron4j.engine.parallel;

import dev.nemotron4j.loader.config.ModelConfig;

/**
 * Which slice of the model a tensor-parallel rank computes (Megatron's split): whole query heads with
 * their KV groups, and a contiguous slice of the FFN. Norms, embeddings and the output layer are replicated.
 */
public record ShardPlan(int rank, int worldSize, int headStart, int heads, int kvHeadStart, int kvHeads,
                        int ffnStart, int ffn) {

    public static ShardPlan of(ModelConfig c, int rank, int worldSize) {
        if (worldSize < 1 || rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("rank " + rank + " is not in a world of " + worldSize);
        }
        if (c.numKvHeads() % worldSize != 0) {
            throw new IllegalArgumentException("tensor parallelism " + worldSize + " must divide the "
                    + c.numKvHeads() + " KV heads");
        }
        if (c.intermediateSize() % worldSize != 0) {
            throw new IllegalArgumentException("tensor parallelism " + worldSize + " must divide the FFN size "
                    + c.intermediateSize());
        }
        int kv = c.numKvHeads() / worldSize;
        int heads = kv * c.groupSize();
        int ffn = c.intermediateSize() / worldSize;
        return new ShardPlan(rank, worldSize, rank * heads, heads, rank * kv, kv, rank * ffn, ffn);
    }

    public static ShardPlan whole(ModelConfig c) {
        return of(c, 0, 1);
    }
}
