package dev.nemotron4j.engine.model;

import dev.nemotron4j.engine.kernels.WeightMatrix;

/**
 * One decoder layer as this rank computes it.
 *
 * @param qkv     q, k and v projections of this rank's heads stacked: rows [q | k | v]
 * @param out     attention output projection, this rank's input columns
 * @param upGate  for gated MLPs rows [gate | up], else just up; this rank's FFN rows
 * @param down    MLP down projection, this rank's FFN columns
 */
public record LayerWeights(NormWeights attnNorm, WeightMatrix qkv, WeightMatrix out, NormWeights mlpNorm,
                           WeightMatrix upGate, WeightMatrix down) {
}
