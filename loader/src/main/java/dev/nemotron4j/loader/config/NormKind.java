package dev.nemotron4j.loader.config;

/** Normalisation layers. */
public enum NormKind {
    /** (x − mean)/sqrt(var + eps) · (1 + w) + b: the stored gamma is zero-centred. */
    LAYERNORM_1P,
    /** (x − mean)/sqrt(var + eps) · w + b. */
    LAYERNORM,
    /** x/sqrt(mean(x²) + eps) · w, no bias. */
    RMSNORM
}
