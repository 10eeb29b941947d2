package dev.nemotron4j.loader.nemo;

import dev.nemotron4j.loader.CheckpointException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * What the loader needs from a SentencePiece model before any tokenizer exists: how many pieces (the true
 * vocabulary, below Megatron's padded embedding rows) and the BOS/EOS ids. Protobuf fields: ModelProto
 * pieces = 1, trainer_spec = 2 {bos_id = 41, eos_id = 42}.
 */
record SentencePieceHeader(int vocabSize, int bosId, int eosId) {

    static SentencePieceHeader read(MemorySegment model, String origin) {
        byte[] b = model.toArray(ValueLayout.JAVA_BYTE);
        int[] pos = {0};
        int pieces = 0, bos = 1, eos = 2;
        try {
            while (pos[0] < b.length) {
                long key = varint(b, pos);
                int field = (int) (key >>> 3), wire = (int) (key & 7);
                if (wire == 2) {
                    int len = (int) varint(b, pos);
                    int end = pos[0] + len;
                    if (len < 0 || end > b.length) throw new IndexOutOfBoundsException();
                    if (field == 1) pieces++;
                    if (field == 2) {
                        while (pos[0] < end) {
                            long k = varint(b, pos);
                            int f = (int) (k >>> 3), w = (int) (k & 7);
                            if (w == 0) {
                                long v = varint(b, pos);
                                if (f == 41) bos = (int) v;
                                if (f == 42) eos = (int) v;
                            } else {
                                skip(b, pos, w);
                            }
                        }
                    }
                    pos[0] = end;
                } else {
                    skip(b, pos, wire);
                }
            }
        } catch (IndexOutOfBoundsException e) {
            throw new CheckpointException(origin + ": tokenizer is not a valid SentencePiece model (corrupt protobuf)");
        }
        if (pieces == 0) throw new CheckpointException(origin + ": tokenizer is not a SentencePiece model (no pieces)");
        return new SentencePieceHeader(pieces, bos, eos);
    }

    private static long varint(byte[] b, int[] pos) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte x = b[pos[0]++];
            v |= (long) (x & 0x7F) << shift;
            if (x >= 0) return v;
        }
        throw new IndexOutOfBoundsException();
    }

    private static void skip(byte[] b, int[] pos, int wire) {
        switch (wire) {
            case 0 -> varint(b, pos);
            case 1 -> pos[0] += 8;
            case 5 -> pos[0] += 4;
            case 2 -> {
                int len = (int) varint(b, pos); // read the length first: `pos[0] += varint(..)` would use the old pos
                pos[0] += len;
            }
            default -> throw new IndexOutOfBoundsException();
        }
        if (pos[0] > b.length) throw new IndexOutOfBoundsException();
    }
}
