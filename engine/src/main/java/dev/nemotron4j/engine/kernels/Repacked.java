package dev.nemotron4j.engine.kernels;

import dev.nemotron4j.loader.tensor.DType;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A Q4_0, Q8_0, Q6_K or BF16 matrix copied once into a layout for the decode kernels: the integer kernels of {@link
 * PackedIntDot}, as llama.cpp repacks these formats for its CPU kernels, and {@link VectorDot#bf16Quads}. GGUF keeps
 * each 32-value block's scale next to its quants, so one vector register sees one block and every block costs a
 * conversion, a scale broadcast and an FMA. Here 16 consecutive blocks of a row form a group: their 16 scales, then
 * words whose int lane {@code j} belongs to block {@code j}; all 16 blocks are summed in int lanes and a single FMA
 * applies the 16 scales. A row is read strictly front to back and every vector load stays inside one cache line.
 * Both integer layouts keep GGUF's size: the scales stay in half precision, and the kernels turn them into floats by
 * moving bits ({@link PackedIntDot#halves}), exact for finite halves; a matrix with an infinite or NaN scale is not
 * repacked. (With float scales, 11 % more bytes for Q4_0 and 6 % for Q8_0, decode was 10–25 % slower:
 * bench/NOTES.md, step 31.)
 *
 * <ul>
 *   <li>Q4_0, 288 bytes a group: 16 scales (32 bytes) and four 64-byte words; word {@code i}, lane {@code j} holds
 *       quant bytes {@code 4i‥4i+3} of block {@code j} (see {@link PackedIntDot#dotQ4Repacked}). Rows are stored in
 *       pairs, interleaved by group: group g of a pair is both rows' scales (64 bytes), row 2p's words, row 2p+1's
 *       words, then group g+1. Decode multiplies the two rows with one load of each activation vector and still
 *       reads memory strictly front to back ({@link PackedIntDot#dotQ4Pairs}; two separate row streams were slower
 *       from DRAM, bench/NOTES.md, step 25). An odd last row has no partner; its slots in the pair are never
 *       read.</li>
 *   <li>Q8_0, 544 bytes a group: 16 scales (32 bytes), then sixteen 32-byte words; word {@code s} holds, for block
 *       {@code j}, the byte pair {@code (q[2s], q[2s+1] − [q[2s] < 0])} at bytes {@code 2j, 2j+1}. Sign-extended to
 *       shorts and read as an int, that pair is exactly {@code q[2s] + q[2s+1]·2¹⁶} (see
 *       {@link PackedIntDot#dotQ8Rows}).</li>
 *   <li>Both integer layouts cut rows of more than {@link #SLAB_GROUPS} groups into column slabs, each stored as a
 *       matrix of its own, one after the other: decode walks a part's rows once per slab, so that the slab's
 *       activations stay in L1 (bench/NOTES.md, step 33).</li>
 *   <li>BF16, the same bytes in another order: rows in fours ("quads"), interleaved by chunks of {@link #BF16_CHUNK}
 *       values (row 4q's chunk k, then row 4q+1's, 4q+2's, 4q+3's, then chunk k+1 of each), so that decode multiplies
 *       four rows with one load of each activation vector while reading memory in one forward stream
 *       ({@link VectorDot#bf16Quads}; bench/NOTES.md, step 29); rows of more than {@link #BF16_SLAB_CHUNKS} chunks
 *       cut into column slabs as the integer layouts are (step 57). Rows past the last whole quad are padding
 *       (zeros; only {@code MatMul}'s one-token split in memory order multiplies them, and drops their sums). Within
 *       a chunk, int lane {@code j} holds the chunk's values {@code j} (low half) and {@code LANES + j} (high half):
 *       one full-width load then gives both vectors of floats with a shift and a mask, where widening two
 *       half-width loads took two conversions (bench/NOTES.md, step 71).</li>
 *   <li>Q6_K, GGUF's 210 bytes a super-block with the six-bit values moved into 32-bit words so that each vector
 *       of value pairs the kernel takes out has one scale group per int lane ({@link Q6Words}; {@link Q6Groups}, the
 *       layout before it, with {@code -Dn4j.q6Groups=true}); rows one after another, no slabs. A typical Q4_0 file
 *       keeps its output layer in Q6_K: for the small shape, half of a decoded token's time.</li>
 * </ul>
 *
 * <p>Only for full-width matrices whose columns are a multiple of 512 (BF16: of {@link #BF16_CHUNK}, and only rows of
 * {@link #BF16_QUAD_MIN_BYTES} and more; Q6_K: of 256), and only while the copy fits in memory ({@link
 * RepackBudget}). A Q8_0 matrix the layout cannot hold exactly (a pair {@code (<0, −128)}; llama.cpp's quantizer never
 * writes −128) is not repacked and keeps the GGUF kernels.
 */
final class Repacked {
    static final int GROUP = 512;

    final DType dtype;
    final MemorySegment data;
    /** Groups of a row (BF16: chunks; Q6_K: super-blocks). */
    final int groups;
    /** Column slabs the Q4_0, Q8_0 and BF16 layouts are cut into (see {@link #SLAB_GROUPS}, {@link #BF16_SLAB_CHUNKS}); 1 for Q6_K. */
    final int slabs;
    /** Per slab (and one past the last): its first group; its byte offset in {@link #data}; one row's bytes in it. */
    private final int[] slabStart;
    private final long[] slabBase, slabRowBytes;

    private Repacked(DType dtype, MemorySegment data, int groups, int rows) {
        this.dtype = dtype;
        this.data = data;
        this.groups = groups;
        this.slabs = switch (dtype) {
            case Q4_0, Q8_0 -> (groups + SLAB_GROUPS - 1) / SLAB_GROUPS;
            case BF16 -> (groups + BF16_SLAB_CHUNKS - 1) / BF16_SLAB_CHUNKS;
            default -> 1;
        };
        long storedRows = switch (dtype) {
            case Q4_0 -> rows + (rows & 1);
            case BF16 -> (rows + 3) / 4 * 4;
            default -> rows;
        };
        long groupBytes = switch (dtype) {
            case Q4_0 -> Q4_GROUP_BYTES;
            case Q8_0 -> Q8_GROUP_BYTES;
            case Q6_K -> Q6Groups.SUPER_BLOCK_BYTES;
            default -> 2L * BF16_CHUNK;
        };
        slabStart = new int[slabs + 1];
        slabBase = new long[slabs];
        slabRowBytes = new long[slabs];
        for (int k = 0; k <= slabs; k++) slabStart[k] = (int) ((long) k * groups / slabs);
        for (int k = 0; k < slabs; k++) {
            slabBase[k] = storedRows * groupBytes * slabStart[k];
            slabRowBytes[k] = groupBytes * (slabStart[k + 1] - slabStart[k]);
        }
    }

    /**
     * Most groups per column slab of a Q4_0 or Q8_0 copy. Decode reads a slab's int8 activations (two bytes a value,
     * see {@link Int8Activations}) once per row or row pair; past about 12 KB of them they no longer stay in L1 while
     * the weights stream past, and a Q4_0 pair's dot product from DRAM ran at half speed (3072 × 9216 took twice as
     * long as 9216 × 3072; bench/NOTES.md, step 33). Slabs of at most 8 groups (4096 columns) keep them at 8 KB.
     */
    static final int SLAB_GROUPS = 8;

    /**
     * Most chunks per column slab of a BF16 copy: with 16 lanes 32 chunks of 32 values, 1024 columns, whose float
     * activations (4 KB) stay in L1 while the quads' weights stream past; with 8 lanes 32 chunks of 16 values, 512
     * columns (slabs of 1024 columns there were no better: bench/NOTES.md, session 31). Over whole rows of 3072–4096
     * columns (12–16 KB of activations) the same kernel streamed 15–25 % slower from DRAM (step 57), as the integer
     * layouts did before their slabs (step 33).
     */
    static final int BF16_SLAB_CHUNKS = 32;

    /** First group of slab {@code s} (of the row's end for {@code s == slabs}); slabs split the groups evenly. */
    int slabStart(int s) {
        return slabStart[s];
    }

    /** Groups in slab {@code s}. */
    int slabGroups(int s) {
        return slabStart[s + 1] - slabStart[s];
    }

    /**
     * Bytes of one Q4_0 group of one row (16 half-precision scales and four words); a stored pair's group {@code g}
     * takes {@link #Q4_PAIR_GROUP} bytes: both rows' scales, then the first row's words, then the second's.
     */
    static final long Q4_GROUP_BYTES = 288, Q4_PAIR_GROUP = 2 * Q4_GROUP_BYTES;
    /** Bytes of a group's 16 half-precision scales (Q4_0 and Q8_0), and of one row's four Q4_0 words. */
    static final long SCALE_BYTES = 32, Q4_WORD_BYTES = Q4_GROUP_BYTES - SCALE_BYTES;
    /** Bytes of one Q8_0 group (rows are stored one after another). */
    static final long Q8_GROUP_BYTES = 544;

    /** BF16 values per chunk of a quad: two vectors (64 bytes with 512-bit vectors). */
    static final int BF16_CHUNK = 2 * VectorDot.LANES;

    /**
     * Byte offset of row {@code r}'s first group in slab {@code s} (BF16: its first chunk; {@code s} is 0); the slab's
     * group {@code g} (counted from {@link #slabStart}) is at {@link #q4Scales}/{@link #q8Scales} from it, a BF16
     * chunk {@code k} at {@code 4k·BF16_CHUNK·2} bytes. Slab {@code s} holds every row's groups {@code [slabStart(s),
     * slabStart(s + 1))}, laid out as a matrix of that many groups on its own, after the slabs before it.
     */
    long row(int r, int s) {
        long rowBytes = slabRowBytes[s];
        return slabBase[s] + switch (dtype) {
            case Q4_0 -> (r >> 1) * 2 * rowBytes + (r & 1) * SCALE_BYTES;
            case BF16 -> (r >> 2) * 4 * rowBytes + (r & 3) * 2L * BF16_CHUNK;
            default -> r * rowBytes;
        };
    }

    /** Byte offset, from {@link #row}, of Q4_0 group {@code g}'s 16 half-precision scales. */
    static long q4Scales(int g) {
        return Q4_PAIR_GROUP * g;
    }

    /** Byte offset, from {@link #row}{@code (r)}, of row {@code r}'s Q4_0 group {@code g}'s four words. */
    static long q4Words(int r, int g) {
        // both rows' scales, then the first row's words; from the second row's scales, 32 bytes on
        return Q4_PAIR_GROUP * g + 2 * SCALE_BYTES + (r & 1) * (Q4_WORD_BYTES - SCALE_BYTES);
    }

    /** Byte offset, from {@link #row}, of Q8_0 group {@code g}'s 16 scales; its sixteen words follow. */
    static long q8Scales(int g) {
        return Q8_GROUP_BYTES * g;
    }

    /**
     * BF16 rows this long and longer (1024 columns) are copied into quads: at 2 KB a row the quads' one loop read
     * 54–56 GB/s from DRAM where one row at a time ({@link VectorDot#bf16Rows}, 4 bytes of activations loaded per 2 of
     * weights) read 50–53, and the small model's output layer streamed 5 % faster; end to end the small model's decode
     * gained within the host's noise (bench/NOTES.md, step 59). Shorter rows keep the file's layout.
     */
    static final long BF16_QUAD_MIN_BYTES = 2048;

    /**
     * Whether {@code w} can be repacked: full-width blocks, and Q4_0 or Q8_0 with columns a multiple of 512 and the
     * int kernels present, or BF16 with columns a multiple of {@link #BF16_CHUNK} and rows of at least {@link
     * #BF16_QUAD_MIN_BYTES}, or Q6_K with columns a multiple of 256 and the int kernels present.
     */
    static boolean eligible(WeightMatrix w) {
        boolean ints = (w.dtype() == DType.Q4_0 || w.dtype() == DType.Q8_0) && PackedIntDot.REPACKED && w.cols() % GROUP == 0;
        boolean bf16 = w.dtype() == DType.BF16 && w.cols() % BF16_CHUNK == 0 && 2L * w.cols() >= BF16_QUAD_MIN_BYTES;
        boolean q6 = w.dtype() == DType.Q6_K && PackedIntDot.REPACKED && w.cols() % 256 == 0;
        if (!ints && !bf16 && !q6) return false;
        for (WeightMatrix.Block b : w.blocks()) if (b.colStart() != 0 || b.cols() != w.cols()) return false;
        return true;
    }

    /** Bytes of the copy {@link #of} makes of an {@link #eligible} matrix (rows padded to whole pairs or quads). */
    static long copyBytes(WeightMatrix w) {
        long rows = w.rows();
        return switch (w.dtype()) {
            case BF16 -> 2L * w.cols() * ((rows + 3) / 4 * 4);
            case Q4_0 -> Q4_GROUP_BYTES * (w.cols() / GROUP) * (rows + (rows & 1));
            case Q6_K -> (long) Q6Groups.SUPER_BLOCK_BYTES * (w.cols() / 256) * rows;
            default -> Q8_GROUP_BYTES * (w.cols() / GROUP) * rows;
        };
    }

    /** For a position {@code p} (0‥511) of a group in {@link #toFloats} order, the column within the group it holds. */
    private static final int[] Q4_COLUMN = new int[GROUP], Q8_COLUMN = new int[GROUP];
    /** The inverse: for a column (0‥511) of a group, its position in {@link #toFloats} order. */
    private static final int[] Q4_POSITION = new int[GROUP], Q8_POSITION = new int[GROUP];

    static {
        for (int j = 0; j < 16; j++) {
            for (int i = 0; i < 4; i++) {
                for (int b = 0; b < 4; b++) {
                    Q4_COLUMN[128 * i + 32 * b + j] = 32 * j + 4 * i + b;
                    Q4_COLUMN[128 * i + 32 * b + 16 + j] = 32 * j + 4 * i + b + 16;
                }
            }
            for (int s = 0; s < 16; s++) {
                Q8_COLUMN[32 * s + j] = 32 * j + 2 * s;
                Q8_COLUMN[32 * s + 16 + j] = 32 * j + 2 * s + 1;
            }
        }
        for (int p = 0; p < GROUP; p++) {
            Q4_POSITION[Q4_COLUMN[p]] = p;
            Q8_POSITION[Q8_COLUMN[p]] = p;
        }
    }

    /**
     * Activations {@code x} (rows of {@code cols}), tokens {@code [t0, tokens)}, reordered into {@code dst} the way
     * {@link #toFloats} orders a row's values, so that products with widened rows need no shuffles.
     */
    void permute(float[] x, int t0, int tokens, int cols, float[] dst) {
        int[] column = columns();
        for (int t = t0; t < tokens; t++) {
            for (int g0 = t * cols; g0 < (t + 1) * cols; g0 += GROUP) {
                for (int p = 0; p < GROUP; p++) dst[g0 + p] = x[g0 + column[p]];
            }
        }
    }

    /**
     * For each position {@code p} of a group in {@link #toFloats} order, the column within the group it holds; null
     * for BF16, whose rows widen in column order.
     */
    int[] columns() {
        return switch (dtype) {
            case Q8_0 -> Q8_COLUMN;
            case Q4_0 -> Q4_COLUMN;
            default -> null;
        };
    }

    /** The inverse of {@link #columns}: for each column of a group, its position in {@link #toFloats} order. */
    int[] positions() {
        return positions(dtype);
    }

    /** {@link #positions()} for a copy of {@code dtype}. */
    static int[] positions(DType dtype) {
        return switch (dtype) {
            case Q8_0 -> Q8_POSITION;
            case Q4_0 -> Q4_POSITION;
            default -> null;
        };
    }

    /**
     * Row {@code r} widened to floats, for Q4_0/Q8_0 in a permuted column order (see {@link #permute}): per group,
     * one vector of 16 lanes per value index, lane {@code j} for block {@code j}, each lane times its block's scale;
     * for BF16 and Q6_K in column order.
     */
    void toFloats(int r, float[] dst, int off) {
        if (dtype == DType.Q6_K) {
            Q6Groups.toFloats(data, row(r, 0), groups, dst, off, Q6Words.USED ? Q6Words::value : Q6Groups::value);
            return;
        }
        if (dtype == DType.BF16) {
            // written out rather than VectorDot.toFloats per 32-value chunk (its dtype switch and tail loop each
            // time): 4B BF16 pp128 31.0 / 27.8 / 31.3 / 32.2 with the helper against 33.4 / 30.5 / 33.9 / 32.9
            for (int s = 0; s < slabs; s++) {
                long row = row(r, s);
                for (int k = slabStart(s), first = k, end = slabStart(s + 1); k < end; k++) {
                    long p = row + 8 * BF16_CHUNK * (long) (k - first);   // chunk k of every row of the quad: 4 × 2·BF16_CHUNK bytes
                    IntVector v = IntVector.fromMemorySegment(VectorDot.I, data, p, ByteOrder.LITTLE_ENDIAN);
                    v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, off + BF16_CHUNK * k);
                    v.and(VectorDot.HIGH_HALF).reinterpretAsFloats().intoArray(dst, off + BF16_CHUNK * k + VectorDot.LANES);
                }
            }
            return;
        }
        for (int s = 0; s < slabs; s++) {
            long row = row(r, s);
            for (int g = 0, n = slabGroups(s); g < n; g++) {
                int o = off + GROUP * (slabStart(s) + g);
                if (dtype == DType.Q8_0) PackedIntDot.widenQ8Group(data, row + q8Scales(g), dst, o);
                else PackedIntDot.widenQ4Group(data, row + q4Scales(g), row + q4Words(r, g), dst, o);
            }
        }
    }

    /**
     * Row {@code r} of a Q4_0 copy as signed value pairs and its block scales over 2¹⁶, for {@link PairTiles}: per
     * group 16 vectors of 16 pairs in the order {@link Int8Activations} lays out repacked activations, vector
     * {@code m} of the row (group {@code m/16}) at {@code dst[off + vs·m ‥ +16)} ({@code vs} ≥ 16, see {@link
     * PackedIntDot#pairsQ4Group}); the scales at {@code scales[sOff ‥ +cols/32)}.
     */
    void toPairs(int r, int[] dst, int off, int vs, float[] scales, int sOff) {
        for (int s = 0; s < slabs; s++) {
            long row = row(r, s);
            for (int g = 0, n = slabGroups(s); g < n; g++) {
                int k = slabStart(s) + g;
                PackedIntDot.pairsQ4Group(data, row + q4Scales(g), row + q4Words(r, g), dst, off + 16 * vs * k, vs, scales, sOff + 16 * k);
            }
        }
    }

    /**
     * Reads one long per 64 bytes of Q4_0 rows {@code [r0, r1)} (whole stored pairs), in every slab, and returns their
     * sum: a prefill part asks for its next panel's bytes this way before the current panel's tiles, so that they come
     * from DRAM while the tiles run (Java has no prefetch instruction; bench/NOTES.md, step 36).
     */
    long touch(int r0, int r1) {
        long sum = 0;
        if (r1 <= r0) return 0;
        for (int s = 0; s < slabs; s++) {
            // from the first row's pair to the end of the last row's (an even row starts its pair)
            long end = row((r1 + 1) & ~1, s);
            for (long o = row(r0 & ~1, s); o < end; o += 64) sum += data.get(ValueLayout.JAVA_LONG_UNALIGNED, o);
        }
        return sum;
    }

    /** The repacked copy of an {@link #eligible} matrix, or null where its values do not fit the layout. */
    static Repacked of(WeightMatrix w, WorkerPool pool) {
        if (w.dtype() == DType.BF16) return quads(w, pool);
        if (w.dtype() == DType.Q6_K) return q6Copy(w, pool);
        int rows = w.rows(), groups = w.cols() / GROUP;
        boolean q8 = w.dtype() == DType.Q8_0;
        MemorySegment data = NativeBuffers.allocateUninitialized(copyBytes(w), 64);
        Repacked copy = new Repacked(w.dtype(), data, groups, rows);
        boolean[] unfit = new boolean[1];
        eachRow(w, pool, (b, r, src) -> {
            boolean ok = q8 ? repackQ8Row(b.data(), src, copy, r) : repackQ4Row(b.data(), src, copy, r);
            if (!ok) unfit[0] = true;
        });
        return unfit[0] ? null : copy;
    }

    /** What {@link #eachRow} does with row {@code r}, which starts at byte {@code src} of block {@code b}'s data. */
    @FunctionalInterface
    private interface RowCopy {
        void copy(WeightMatrix.Block b, int r, long src);
    }

    /** Calls {@code copy} for every row of {@code w}, the rows split over the pool. */
    private static void eachRow(WeightMatrix w, WorkerPool pool, RowCopy copy) {
        pool.forRange(w.rows(), w.cols(), (chunk, r0, r1) -> {
            for (WeightMatrix.Block b : w.blocks()) {
                int lo = Math.max(r0, b.rowStart()), hi = Math.min(r1, b.rowStart() + b.rows());
                for (int r = lo; r < hi; r++) copy.copy(b, r, b.offset() + (long) (r - b.rowStart()) * b.rowStride());
            }
        });
    }

    /**
     * The BF16 copy: each chunk (64 bytes with 512-bit vectors) goes straight from the mapped row to its place in the
     * quad, its two halves zipped into int lanes; the padding rows of a last quad that is not whole are zeros.
     */
    private static Repacked quads(WeightMatrix w, WorkerPool pool) {
        int rows = w.rows(), chunks = w.cols() / BF16_CHUNK;
        long cb = 2L * BF16_CHUNK;
        MemorySegment data = NativeBuffers.allocateUninitialized(copyBytes(w), 64);
        Repacked copy = new Repacked(DType.BF16, data, chunks, rows);
        eachRow(w, pool, (b, r, src) -> {
            for (int s = 0; s < copy.slabs; s++) {
                long dst = copy.row(r, s);
                for (int k = copy.slabStart(s), first = k, end = copy.slabStart(s + 1); k < end; k++) {
                    // values j and LANES + j of the chunk into int lane j, low and high half: each half widened
                    // (its values in the lanes' high halves), the first moved down
                    long from = src + cb * k;
                    IntVector lo = VectorDot.widenBf16(b.data(), from).reinterpretAsInts().lanewise(VectorOperators.LSHR, 16);
                    IntVector hi = VectorDot.widenBf16(b.data(), from + cb / 2).reinterpretAsInts();
                    lo.or(hi).intoMemorySegment(data, dst + 4 * cb * (k - first), ByteOrder.LITTLE_ENDIAN);
                }
            }
        });
        // the last quad's padding rows as zeros: one-token decode over several slabs multiplies whole quads
        for (int r = rows; r < (rows + 3) / 4 * 4; r++) {
            for (int s = 0; s < copy.slabs; s++) {
                for (int k = 0, n = copy.slabGroups(s); k < n; k++) data.asSlice(copy.row(r, s) + 4 * cb * k, cb).fill((byte) 0);
            }
        }
        return copy;
    }

    /** The Q6_K copy ({@link Q6Groups}, or {@link Q6Words}): every row repacked on its own; every Q6_K row fits. */
    private static Repacked q6Copy(WeightMatrix w, WorkerPool pool) {
        int rows = w.rows(), superBlocks = w.cols() / 256;
        MemorySegment data = NativeBuffers.allocateUninitialized(copyBytes(w), 64);
        Repacked copy = new Repacked(DType.Q6_K, data, superBlocks, rows);
        eachRow(w, pool, (b, r, src) -> {
            if (Q6Words.USED) Q6Words.repackRow(b.data(), src, data, copy.row(r, 0), superBlocks);
            else Q6Groups.repackRow(b.data(), src, data, copy.row(r, 0), superBlocks);
        });
        return copy;
    }

    /*
     * A row is copied onto the heap as shorts (both block formats are whole shorts: 9 for Q4_0, 17 for Q8_0, the
     * scale first), rearranged there and copied back whole: per-element accesses to the segments (each bounds- and
     * liveness-checked) made repacking a 4B model take tens of seconds.
     */

    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Per pool thread: a source row and its repacked form, reused (repacking allocates nothing per row). */
    private static final ThreadLocal<short[][]> ROWS = ThreadLocal.withInitial(() -> new short[2][0]);

    /** This thread's row buffers, {@code in} of at least {@code inShorts} and {@code out} of {@code outShorts}. */
    private static short[][] rows(int inShorts, int outShorts) {
        short[][] b = ROWS.get();
        if (b[0].length < inShorts) b[0] = new short[inShorts];
        if (b[1].length < outShorts) b[1] = new short[outShorts];
        return b;
    }

    /** Whether a half-precision scale is finite: the kernels turn halves into floats by moving bits, exact for those only. */
    private static boolean finiteHalf(short h) {
        return (h & 0x7C00) != 0x7C00;
    }

    private static boolean repackQ4Row(MemorySegment src, long off, Repacked copy, int r) {
        int groups = copy.groups;
        short[][] bufs = rows(9 * 16 * groups, 144 * groups);
        short[] in = bufs[0], out = bufs[1];
        MemorySegment.copy(src, SHORT_LE, off, in, 0, 9 * 16 * groups);
        for (int g = 0; g < groups; g++) {
            int gOut = 144 * g;
            for (int j = 0; j < 16; j++) {
                int b = 9 * (16 * g + j);
                if (!finiteHalf(in[b])) return false;
                out[gOut + j] = in[b];
                // word i, lane j: quant bytes 4i‥4i+3 of block j, i.e. its shorts 2i and 2i+1
                for (int i = 0; i < 4; i++) {
                    out[gOut + 16 + 32 * i + 2 * j] = in[b + 1 + 2 * i];
                    out[gOut + 16 + 32 * i + 2 * j + 1] = in[b + 2 + 2 * i];
                }
            }
        }
        for (int s = 0; s < copy.slabs; s++) {
            long dOff = copy.row(r, s);
            for (int g = 0, n = copy.slabGroups(s); g < n; g++) {
                int gOut = 144 * (copy.slabStart(s) + g);
                MemorySegment.copy(out, gOut, copy.data, SHORT_LE, dOff + q4Scales(g), 16);
                MemorySegment.copy(out, gOut + 16, copy.data, SHORT_LE, dOff + q4Words(r, g), 128);
            }
        }
        return true;
    }

    private static boolean repackQ8Row(MemorySegment src, long off, Repacked copy, int r) {
        int groups = copy.groups;
        short[][] bufs = rows(17 * 16 * groups, 272 * groups);
        short[] in = bufs[0], out = bufs[1];
        MemorySegment.copy(src, SHORT_LE, off, in, 0, 17 * 16 * groups);
        for (int g = 0; g < groups; g++) {
            int gOut = 272 * g;
            for (int j = 0; j < 16; j++) {
                int b = 17 * (16 * g + j);
                if (!finiteHalf(in[b])) return false;
                out[gOut + j] = in[b];
                for (int s = 0; s < 16; s++) {
                    short pair = in[b + 1 + s];   // q[2s] in the low byte
                    int lo = (byte) pair, hi = (pair >> 8) + (lo >> 31);   // minus the low byte's sign borrow
                    if (hi < Byte.MIN_VALUE) return false;
                    out[gOut + 16 + 16 * s + j] = (short) ((hi << 8) | (lo & 0xFF));
                }
            }
        }
        for (int s = 0; s < copy.slabs; s++) {
            MemorySegment.copy(out, 272 * copy.slabStart(s), copy.data, SHORT_LE, copy.row(r, s), 272 * copy.slabGroups(s));
        }
        return true;
    }
}
