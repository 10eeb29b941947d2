package dev.nemotron4j.loader.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HfConfigReaderTest {
    private static ModelConfig parse(String json) throws Exception {
        return HfConfigReader.parse(new ObjectMapper().readTree(json));
    }

    @Test
    void minitronEightBHasAHeadDimThatIsNotHiddenOverHeads() throws Exception {
        ModelConfig c = parse("""
                {"model_type":"nemotron","vocab_size":256000,"hidden_size":4096,"intermediate_size":16384,
                 "num_hidden_layers":32,"num_attention_heads":48,"num_key_value_heads":8,"head_dim":128,
                 "hidden_act":"relu2","norm_eps":1e-5,"partial_rotary_factor":0.5,"rope_theta":10000,
                 "max_position_embeddings":4096}""");
        assertEquals(Architecture.NEMOTRON, c.architecture());
        assertEquals(128, c.headDim());
        assertEquals(64, c.rotaryDim());
        assertEquals(6, c.groupSize());
        assertEquals(NormKind.LAYERNORM_1P, c.norm());
        assertEquals(Activation.RELU2, c.activation());
        assertEquals(List.of(3), c.eosIds());
        assertNull(c.ropeScaling());
    }

    @Test
    void acceptsTheAliasesOtherConvertersWrote() throws Exception {
        ModelConfig c = parse("""
                {"model_type":"nemotron","vocab_size":10,"hidden_size":64,"intermediate_size":8,
                 "num_hidden_layers":1,"num_attention_heads":4,"kv_channels":32,"rope_percentage":0.25,
                 "layer_norm_eps":1e-6}""");
        assertEquals(32, c.headDim());
        assertEquals(8, c.rotaryDim());
        assertEquals(4, c.numKvHeads()); // no num_key_value_heads: multi-head attention
        assertEquals(1e-6, c.normEps());
        ModelConfig v5 = parse("""
                {"model_type":"nemotron","vocab_size":10,"hidden_size":64,"intermediate_size":8,
                 "num_hidden_layers":1,"num_attention_heads":4,
                 "rope_parameters":{"rope_theta":5000,"partial_rotary_factor":0.5,"rope_type":"default"}}""");
        assertEquals(5000, v5.ropeTheta());
        assertEquals(8, v5.rotaryDim());
        assertNull(v5.ropeScaling());
    }

    @Test
    void llamaThreeOneReadsScalingAndSeveralEosIds() throws Exception {
        ModelConfig c = parse("""
                {"model_type":"llama","vocab_size":128256,"hidden_size":8192,"intermediate_size":28672,
                 "num_hidden_layers":80,"num_attention_heads":64,"num_key_value_heads":8,"rms_norm_eps":1e-5,
                 "rope_theta":500000.0,"max_position_embeddings":131072,"hidden_act":"silu",
                 "bos_token_id":128000,"eos_token_id":[128001,128008,128009],
                 "rope_scaling":{"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,
                   "original_max_position_embeddings":8192,"rope_type":"llama3"}}""");
        assertEquals(Activation.SWIGLU, c.activation());
        assertEquals(NormKind.RMSNORM, c.norm());
        assertEquals(128, c.rotaryDim());
        assertEquals(List.of(128001, 128008, 128009), c.eosIds());
        RopeScaling s = c.ropeScaling();
        assertEquals(RopeScaling.Type.LLAMA3, s.type());
        // high-frequency dims are untouched, low-frequency ones divided by the factor
        assertEquals(1.0, s.scale(0, 1.0));
        assertEquals(1e-4 / 8, s.scale(0, 1e-4), 1e-12);
        assertTrue(c.parameterCount() > 69e9 && c.parameterCount() < 72e9, "70B parameters, got " + c.parameterCount());
    }

    @Test
    void refusesWhatIsNotImplementedByName() {
        Exception arch = assertThrows(IllegalArgumentException.class, () -> parse("""
                {"model_type":"mistral","vocab_size":10,"hidden_size":8,"intermediate_size":8,
                 "num_hidden_layers":1,"num_attention_heads":2}"""));
        assertTrue(arch.getMessage().contains("\"mistral\""), arch.getMessage());
        Exception act = assertThrows(IllegalArgumentException.class, () -> parse("""
                {"model_type":"nemotron","vocab_size":10,"hidden_size":8,"intermediate_size":8,
                 "num_hidden_layers":1,"num_attention_heads":2,"hidden_act":"gelu"}"""));
        assertTrue(act.getMessage().contains("gelu"), act.getMessage());
        Exception yarn = assertThrows(IllegalArgumentException.class, () -> parse("""
                {"model_type":"llama","vocab_size":10,"hidden_size":8,"intermediate_size":8,
                 "num_hidden_layers":1,"num_attention_heads":2,"rope_scaling":{"rope_type":"yarn","factor":4}}"""));
        assertTrue(yarn.getMessage().contains("yarn"), yarn.getMessage());
        Exception gqa = assertThrows(IllegalArgumentException.class, () -> parse("""
                {"model_type":"llama","vocab_size":10,"hidden_size":8,"intermediate_size":8,
                 "num_hidden_layers":1,"num_attention_heads":4,"num_key_value_heads":3}"""));
        assertTrue(gqa.getMessage().contains("num_key_value_heads"), gqa.getMessage());
        Exception missing = assertThrows(IllegalArgumentException.class, () -> parse("""
                {"model_type":"llama","hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4}"""));
        assertTrue(missing.getMessage().contains("vocab_size"), missing.getMessage());
    }

    /** Values that would load and run, but give garbage (a rotary base or scaling factor of 0, say), are refused. */
    @Test
    void refusesRotaryValuesThatCannotBeRight() {
        String base = """
                {"model_type":"llama","vocab_size":10,"hidden_size":8,"intermediate_size":8,
                 "num_hidden_layers":1,"num_attention_heads":2,%s}""";
        for (String bad : new String[]{"\"rope_theta\":\"abc\"", "\"rope_theta\":0", "\"rope_theta\":-10000"}) {
            Exception e = assertThrows(IllegalArgumentException.class, () -> parse(base.formatted(bad)));
            assertTrue(e.getMessage().contains("rope_theta"), bad + " -> " + e.getMessage());
        }
        for (String bad : new String[]{"\"rope_scaling\":{\"rope_type\":\"linear\",\"factor\":0}",
                "\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":-8}"}) {
            Exception e = assertThrows(IllegalArgumentException.class, () -> parse(base.formatted(bad)));
            assertTrue(e.getMessage().contains("factor"), bad + " -> " + e.getMessage());
        }
    }
}
