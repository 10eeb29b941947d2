package dev.nemotron4j.tokenizer.sentencepiece;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Ids → UTF-8 bytes the way SentencePiece decodes: pieces concatenated, {@code ▁} as a space, byte pieces
 * ({@code <0xE2>}) as raw bytes, control pieces as nothing, unknown as " ⁇ ", and the dummy-prefix space
 * of the first piece dropped. Done in Java because JNI strings cannot carry 4-byte UTF-8.
 */
final class PieceDecoder {
    private static final String SPACE = "\u2581";
    private final SentencePieceModel model;
    private final byte[][] bytes;

    PieceDecoder(SentencePieceModel model) {
        this.model = model;
        this.bytes = new byte[model.pieces().size()][];
        for (int i = 0; i < bytes.length; i++) {
            SentencePieceModel.Piece p = model.pieces().get(i);
            bytes[i] = switch (p.type()) {
                case CONTROL, UNUSED -> new byte[0];
                case UNKNOWN -> " \u2047 ".getBytes(StandardCharsets.UTF_8);
                case BYTE -> new byte[]{(byte) Integer.parseInt(p.text().substring(3, 5), 16)};
                default -> p.text().replace(SPACE, " ").getBytes(StandardCharsets.UTF_8);
            };
        }
    }

    /** The bytes of {@code ids}; {@code atStart} says whether these are the first pieces of the text. */
    byte[] decode(int[] ids, boolean atStart) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean first = atStart;
        for (int id : ids) {
            byte[] b = bytes[id];
            if (b.length == 0) continue;
            int from = 0;
            if (first && model.addDummyPrefix() && b[0] == ' '
                    && model.pieces().get(id).type() != SentencePieceModel.Type.BYTE) {
                from = 1;
            }
            first = false;
            out.write(b, from, b.length - from);
        }
        return out.toByteArray();
    }
}
