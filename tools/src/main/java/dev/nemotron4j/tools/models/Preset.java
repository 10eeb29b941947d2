package dev.nemotron4j.tools.models;

import dev.nemotron4j.loader.config.Activation;
import dev.nemotron4j.loader.config.Architecture;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.config.NormKind;
import dev.nemotron4j.loader.config.RopeScaling;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** The true shapes of the published models (spec §1.3, §3.1), for random-weight benchmarking. */
public enum Preset {
    NEMOTRON_SMALL(nemotron(1024, 20, 8, 4, 128, 4096)),
    NEMOTRON_MINI_4B(nemotron(3072, 32, 24, 8, 128, 9216)),
    MINITRON_8B(nemotron(4096, 32, 48, 8, 128, 16384)),
    NEMOTRON_4_15B(nemotron(6144, 32, 48, 8, 128, 24576)),
    NEMOTRON_3_8B(nemotron(4096, 32, 32, 32, 128, 16384)),
    LLAMA_3_1_8B(new ModelConfig(Architecture.LLAMA, 128256, 4096, 14336, 32, 32, 8, 128, 131072, 1e-5,
            NormKind.RMSNORM, Activation.SWIGLU, 500000, 128, RopeScaling.llama3(8, 1, 4, 8192), false, 128000,
            List.of(128001, 128008, 128009)));

    private final ModelConfig config;

    Preset(ModelConfig config) {
        this.config = config;
    }

    public ModelConfig config() {
        return config;
    }

    /** The command-line spelling: nemotron-mini-4b, llama-3.1-8b, ... */
    public String id() {
        return name().toLowerCase(Locale.ROOT).replace("llama_3_1", "llama-3.1").replace('_', '-');
    }

    public static Preset byId(String id) {
        return Arrays.stream(values()).filter(p -> p.id().equals(id)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("unknown preset '" + id + "'; one of " + Arrays.stream(values()).map(Preset::id).toList()));
    }

    private static ModelConfig nemotron(int h, int layers, int heads, int kv, int hd, int ffn) {
        return new ModelConfig(Architecture.NEMOTRON, 256000, h, ffn, layers, heads, kv, hd, 4096, 1e-5,
                NormKind.LAYERNORM_1P, Activation.RELU2, 10000, hd / 2, null, false, 2, List.of(3));
    }
}
