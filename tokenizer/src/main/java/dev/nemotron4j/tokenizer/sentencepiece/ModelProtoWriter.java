package dev.nemotron4j.tokenizer.sentencepiece;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Serialises a SentencePiece {@code ModelProto} (protobuf wire format): pieces (piece = 1, score = 2, type = 3),
 * trainer_spec (model_type = 3, vocab_size = 4, byte_fallback = 35, unk/bos/eos/pad ids = 40..43) and
 * normalizer_spec (name = 1, add_dummy_prefix = 3, remove_extra_whitespaces = 4, escape_whitespaces = 5). Used to
 * hand a vocabulary that arrived in another container (GGUF metadata) to the SentencePiece library.
 */
public final class ModelProtoWriter {
    /** SentencePiece model types. */
    public static final int UNIGRAM = 1, BPE = 2;

    private ModelProtoWriter() {
    }

    public static byte[] write(SentencePieceModel m, int modelType, boolean byteFallback) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (SentencePieceModel.Piece p : m.pieces()) {
            ByteArrayOutputStream piece = new ByteArrayOutputStream();
            bytesField(piece, 1, p.text().getBytes(StandardCharsets.UTF_8));
            key(piece, 2, 5);
            int bits = Float.floatToIntBits(p.score());
            for (int i = 0; i < 4; i++) piece.write(bits >>> (8 * i));
            varintField(piece, 3, p.type().ordinal());
            bytesField(out, 1, piece.toByteArray());
        }
        ByteArrayOutputStream trainer = new ByteArrayOutputStream();
        varintField(trainer, 3, modelType);
        varintField(trainer, 4, m.pieces().size());
        varintField(trainer, 35, byteFallback ? 1 : 0);
        varintField(trainer, 40, m.unkId());
        varintField(trainer, 41, m.bosId());
        varintField(trainer, 42, m.eosId());
        varintField(trainer, 43, m.padId());
        bytesField(out, 2, trainer.toByteArray());
        ByteArrayOutputStream norm = new ByteArrayOutputStream();
        bytesField(norm, 1, "identity".getBytes(StandardCharsets.UTF_8));
        varintField(norm, 3, m.addDummyPrefix() ? 1 : 0);
        varintField(norm, 4, 0);
        varintField(norm, 5, 1);
        bytesField(out, 3, norm.toByteArray());
        return out.toByteArray();
    }

    private static void key(ByteArrayOutputStream o, int field, int wire) {
        varint(o, ((long) field << 3) | wire);
    }

    private static void varintField(ByteArrayOutputStream o, int field, long v) {
        key(o, field, 0);
        varint(o, v);
    }

    private static void bytesField(ByteArrayOutputStream o, int field, byte[] b) {
        key(o, field, 2);
        varint(o, b.length);
        o.writeBytes(b);
    }

    private static void varint(ByteArrayOutputStream o, long v) {
        // negative int32 values (ids of -1) are written as 10-byte two's complement, as protobuf does
        while ((v & ~0x7FL) != 0) {
            o.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        o.write((int) v);
    }
}
