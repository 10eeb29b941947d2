package dev.nemotron4j.tools.cli;

import dev.nemotron4j.loader.config.Architecture;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.tools.models.Preset;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code random-model}'s presets have the published models' shapes: their parameter counts are those the model cards
 * give (a wrong width, depth or FFN size moves them by far more than the tolerance). Too large to write in a test;
 * the streaming writer they go through is the one {@link GgufTest} writes its wide random model with.
 */
class PresetTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource({
            // id, parameters (model card), relative tolerance
            "nemotron-small, 0.755e9, 0.01",       // the shape: 1.51 GB in BF16
            "nemotron-mini-4b, 4.19e9, 0.01",      // Nemotron-Mini-4B-Instruct: 4.19B
            "minitron-8b, 8.27e9, 0.01",           // Minitron-8B-Base: 8.27B
            "nemotron-4-15b, 15.7e9, 0.02",        // Nemotron-4 15B: 3.2B embedding + 12.5B non-embedding
            "nemotron-3-8b, 8.54e9, 0.02",         // Nemotron-3-8B: 8.5B with its untied output layer
            "llama-3.1-8b, 8030261248, 0"})        // Llama 3.1 8B: exactly 8,030,261,248
    void presetsHaveThePublishedParameterCounts(String id, double parameters, double tolerance) {
        Preset p = Preset.byId(id);
        assertEquals(id, p.id());
        long n = p.config().parameterCount();
        assertTrue(Math.abs(n - parameters) <= tolerance * parameters, id + ": " + n + " parameters, expected " + parameters);
        ModelConfig c = p.config();
        assertEquals(id.startsWith("llama") ? Architecture.LLAMA : Architecture.NEMOTRON, c.architecture(), id);
    }
}
