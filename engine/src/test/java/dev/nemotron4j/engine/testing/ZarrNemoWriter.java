package dev.nemotron4j.engine.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes an extracted {@code .nemo} directory in the Nemotron-4-340B layout (zarr distributed checkpoint, BF16,
 * layers stacked on axis 0, one chunk per layer) with random weights, streaming, for tests of large checkpoints.
 */
public final class ZarrNemoWriter {
    private final Path dir;
    private final SplittableRandom rnd;

    private ZarrNemoWriter(Path dir, long seed) {
        this.dir = dir;
        this.rnd = new SplittableRandom(seed);
    }

    /** A GQA Nemotron with the fixture tokenizer (vocab 1024). Returns the directory. */
    public static Path write(Path dir, int layers, int hidden, int heads, int groups, int headDim, int ffn, long seed)
            throws IOException {
        Files.createDirectories(dir.resolve("model_weights"));
        String tok = "0123456789abcdef0123456789abcdef_nemotron-test-1k.model";
        Files.copy(Fixtures.path("nemotron-test-1k.model"), dir.resolve(tok));
        Files.writeString(dir.resolve("model_config.yaml"), """
                mcore_gpt: true
                num_layers: %d
                hidden_size: %d
                ffn_hidden_size: %d
                num_attention_heads: %d
                num_query_groups: %d
                kv_channels: %d
                max_position_embeddings: 4096
                position_embedding_type: rope
                rotary_percentage: 0.5
                normalization: layernorm1p
                layernorm_epsilon: 1.0e-05
                activation: squared-relu
                bias: false
                share_embeddings_and_output_weights: false
                tokenizer:
                  library: sentencepiece
                  model: nemo:%s
                """.formatted(layers, hidden, ffn, heads, groups, headDim, tok));
        Files.writeString(dir.resolve("model_weights/metadata.json"), "{\"sharded_backend\": \"zarr\", \"sharded_backend_version\": 1}");
        ZarrNemoWriter w = new ZarrNemoWriter(dir.resolve("model_weights"), seed);
        int vocab = 1024;
        double std = 0.02;
        w.array("model.embedding.word_embeddings.weight", std, vocab, hidden);
        w.array("model.output_layer.weight", std, vocab, hidden);
        w.array("model.decoder.final_layernorm.weight", 0, hidden);
        w.array("model.decoder.final_layernorm.bias", 0, hidden);
        String l = "model.decoder.layers.";
        w.array(l + "self_attention.linear_qkv.layer_norm_weight", 0, layers, hidden);
        w.array(l + "self_attention.linear_qkv.layer_norm_bias", 0, layers, hidden);
        w.array(l + "self_attention.linear_qkv.weight", std, layers, (heads + 2L * groups) * headDim, hidden);
        w.array(l + "self_attention.linear_proj.weight", std, layers, hidden, (long) heads * headDim);
        w.array(l + "mlp.linear_fc1.layer_norm_weight", 0, layers, hidden);
        w.array(l + "mlp.linear_fc1.layer_norm_bias", 0, layers, hidden);
        w.array(l + "mlp.linear_fc1.weight", std, layers, ffn, hidden);
        w.array(l + "mlp.linear_fc2.weight", std, layers, hidden, ffn);
        return dir;
    }

    /** A BF16 array; a stacked one (rank 3, or rank 2 under "layers.") gets one chunk per layer. */
    private void array(String key, double std, long... shape) throws IOException {
        Path a = Files.createDirectories(dir.resolve(key));
        boolean stacked = key.startsWith("model.decoder.layers.");
        long[] chunks = shape.clone();
        if (stacked) chunks[0] = 1;
        StringBuilder s = new StringBuilder(), c = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
            s.append(i == 0 ? "" : ", ").append(shape[i]);
            c.append(i == 0 ? "" : ", ").append(chunks[i]);
        }
        Files.writeString(a.resolve(".zarray"), "{\"chunks\": [" + c + "], \"compressor\": null, \"dtype\": \"bfloat16\", "
                + "\"fill_value\": null, \"filters\": null, \"order\": \"C\", \"shape\": [" + s + "], \"zarr_format\": 2}");
        long perChunk = 1;
        for (long x : chunks) perChunk *= x;
        long n = stacked ? shape[0] : 1;
        for (long i = 0; i < n; i++) {
            String name = i + ".0".repeat(shape.length - 1);
            try (OutputStream out = Files.newOutputStream(a.resolve(name))) {
                ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
                for (long e = 0; e < perChunk; e++) {
                    float v = (float) ((rnd.nextDouble() * 2 - 1) * std * Math.sqrt(3));
                    buf.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
                    if (!buf.hasRemaining()) {
                        out.write(buf.array(), 0, buf.position());
                        buf.clear();
                    }
                }
                out.write(buf.array(), 0, buf.position());
            }
        }
    }
}
