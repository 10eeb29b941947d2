package dev.nemotron4j.tokenizer.sentencepiece;

import dev.nemotron4j.tokenizer.TokenizerException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a SentencePiece {@code ModelProto} the engine needs without going through JNI: every piece
 * with its type, and the special ids of the trainer spec. A minimal protobuf wire-format reader; field
 * numbers from sentencepiece_model.proto (pieces = 1 {piece = 1, score = 2, type = 3}, trainer_spec = 2
 * {unk_id = 40, bos_id = 41, eos_id = 42, pad_id = 43}, normalizer_spec = 3 {add_dummy_prefix = 3}).
 */
public record SentencePieceModel(List<Piece> pieces, int unkId, int bosId, int eosId, int padId,
                                 boolean addDummyPrefix) {

    public enum Type { UNDEFINED, NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE }

    public record Piece(String text, float score, Type type) {
    }

    public static SentencePieceModel parse(byte[] bytes, String origin) {
        try {
            List<Piece> pieces = new ArrayList<>();
            int[] ids = {0, 1, 2, -1}; // proto defaults: unk 0, bos 1, eos 2, pad -1
            boolean dummyPrefix = true;
            Reader r = new Reader(bytes, 0, bytes.length);
            while (r.more()) {
                long key = r.varint();
                int field = (int) (key >>> 3), wire = (int) (key & 7);
                if (field == 1 && wire == 2) {
                    pieces.add(piece(r.sub()));
                } else if (field == 2 && wire == 2) {
                    Reader t = r.sub();
                    while (t.more()) {
                        long k = t.varint();
                        int f = (int) (k >>> 3), w = (int) (k & 7);
                        if (w == 0 && f >= 40 && f <= 43) ids[f - 40] = (int) t.varint();
                        else t.skip(w);
                    }
                } else if (field == 3 && wire == 2) {
                    Reader n = r.sub();
                    while (n.more()) {
                        long k = n.varint();
                        int f = (int) (k >>> 3), w = (int) (k & 7);
                        if (f == 3 && w == 0) dummyPrefix = n.varint() != 0;
                        else n.skip(w);
                    }
                } else {
                    r.skip(wire);
                }
            }
            if (pieces.isEmpty()) throw new TokenizerException(origin + ": SentencePiece model has no pieces");
            return new SentencePieceModel(List.copyOf(pieces), ids[0], ids[1], ids[2], ids[3], dummyPrefix);
        } catch (IndexOutOfBoundsException e) {
            throw new TokenizerException(origin + ": not a SentencePiece model (truncated or corrupt protobuf)", e);
        }
    }

    private static Piece piece(Reader r) {
        String text = "";
        float score = 0;
        Type type = Type.NORMAL;
        while (r.more()) {
            long k = r.varint();
            int f = (int) (k >>> 3), w = (int) (k & 7);
            if (f == 1 && w == 2) {
                Reader s = r.sub();
                text = new String(s.buf, s.pos, s.end - s.pos, StandardCharsets.UTF_8);
            } else if (f == 2 && w == 5) {
                score = Float.intBitsToFloat(r.fixed32());
            } else if (f == 3 && w == 0) {
                int t = (int) r.varint();
                type = t >= 0 && t < Type.values().length ? Type.values()[t] : Type.UNDEFINED;
            } else {
                r.skip(w);
            }
        }
        return new Piece(text, score, type);
    }

    private static final class Reader {
        final byte[] buf;
        int pos;
        final int end;

        Reader(byte[] buf, int pos, int end) {
            this.buf = buf;
            this.pos = pos;
            this.end = end;
        }

        boolean more() {
            return pos < end;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) throw new IndexOutOfBoundsException("varint past end");
                byte b = buf[pos++];
                v |= (long) (b & 0x7F) << shift;
                if (b >= 0) return v;
            }
            throw new IndexOutOfBoundsException("varint too long");
        }

        int fixed32() {
            if (pos + 4 > end) throw new IndexOutOfBoundsException("fixed32 past end");
            int v = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16 | (buf[pos + 3] & 0xFF) << 24;
            pos += 4;
            return v;
        }

        Reader sub() {
            long len = varint();
            if (len < 0 || pos + len > end) throw new IndexOutOfBoundsException("length past end");
            Reader r = new Reader(buf, pos, (int) (pos + len));
            pos += (int) len;
            return r;
        }

        void skip(int wire) {
            switch (wire) {
                case 0 -> varint();
                case 1 -> pos += 8;
                case 2 -> sub();
                case 5 -> pos += 4;
                default -> throw new IndexOutOfBoundsException("unknown wire type " + wire);
            }
            if (pos > end) throw new IndexOutOfBoundsException("field past end");
        }
    }
}
