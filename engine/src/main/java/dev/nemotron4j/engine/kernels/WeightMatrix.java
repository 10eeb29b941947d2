package dev.nemotron4j.engine.kernels;

import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.tensor.DType;
import dev.nemotron4j.loader.tensor.Tensor;
import dev.nemotron4j.loader.tensor.TensorBlock;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A 2-D weight {@code [rows, cols]} (PyTorch {@code [out, in]}) read in place. It is a set of rectangular
 * blocks, each row-major in mapped memory with its own row stride; that one shape covers a plain
 * safetensors matrix (one block), zarr chunks, the query rows of a fused QKV weight, row slices and
 * column slices for tensor parallelism, and q/k/v stacked into one matrix — all without copying bytes. Before
 * the first token, {@link #prepare} may give the kernels a copy instead: a {@link Repacked} layout, or the same
 * layout in huge pages.
 */
public final class WeightMatrix {

    /** Rows {@code [rowStart, rowStart+rows)} × cols {@code [colStart, colStart+cols)}; element (r, c) at byte
     * {@code offset + (r-rowStart)·rowStride + (c-colStart)·itemSize} of {@code data}. */
    public record Block(int rowStart, int rows, int colStart, int cols, MemorySegment data, long offset, long rowStride) {
    }

    private final String name;
    private final DType dtype;
    private final int rows;
    private final int cols;
    /** The blocks as bound, in the checkpoint's memory. */
    private final Block[] original;
    /** The blocks the kernels read: {@link #original}, or their {@link #resident} copy. */
    private volatile Block[] blocks;

    public WeightMatrix(String name, DType dtype, int rows, int cols, List<Block> blocks) {
        this.name = name;
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
        this.original = blocks.toArray(Block[]::new);
        this.blocks = original;
        if (!dtype.isFloatWeight()) {
            throw new CheckpointException("tensor '" + name + "' has dtype " + dtype + "; expected F32, F16 or BF16");
        }
    }

    /** A 2-D tensor as a matrix. */
    public static WeightMatrix of(Tensor t) {
        if (t.rank() != 2) {
            throw new CheckpointException(t.origin() + ": tensor '" + t.name() + "' has shape " + Arrays.toString(t.shape())
                    + ", expected a matrix");
        }
        if (!t.dtype().isFloatWeight()) {
            throw new CheckpointException(t.origin() + ": tensor '" + t.name() + "' has dtype " + t.dtype()
                    + "; expected F32, F16 or BF16");
        }
        if (t.dim(0) > Integer.MAX_VALUE || t.dim(1) > Integer.MAX_VALUE) {
            throw new CheckpointException(t.origin() + ": tensor '" + t.name() + "' is too large: " + Arrays.toString(t.shape()));
        }
        List<Block> blocks = new ArrayList<>();
        for (TensorBlock b : t.blocks()) {
            blocks.add(new Block((int) b.start(0), (int) b.size(0), (int) b.start(1), (int) b.size(1), b.data(), 0,
                    t.dtype().bytesFor(b.size(1))));
        }
        return new WeightMatrix(t.name(), t.dtype(), (int) t.dim(0), (int) t.dim(1), blocks);
    }

    private static final System.Logger LOG = System.getLogger(WeightMatrix.class.getName());
    /** One warning per JVM when copies are refused for want of memory (a big model would otherwise log hundreds). */
    private static final java.util.concurrent.atomic.AtomicBoolean WARNED = new java.util.concurrent.atomic.AtomicBoolean();

    private volatile Repacked repacked;
    private volatile boolean repackChecked;

    /**
     * The copy of a Q4_0/Q8_0/Q6_K/BF16 matrix the kernels read instead of the mapped bytes, made on first use or by
     * {@link #prepare} (null where {@link Repacked} cannot hold it). Once it exists, the mapped pages of the source
     * are released ({@link MemorySegment#unload}): the file stays in the page cache, but the process keeps one copy
     * of the weights, not two. A later reader of the source (a tied embedding) faults its pages back in. No copy is
     * made where it would not leave enough memory free ({@link RepackBudget}).
     */
    Repacked repacked(WorkerPool pool) {
        return repacked(pool, false);
    }

    private Repacked repacked(WorkerPool pool, boolean readAhead) {
        if (repackChecked) return repacked;
        synchronized (this) {
            if (!repackChecked) {
                if (Repacked.eligible(this) && !Boolean.getBoolean("n4j.noRepack")) {
                    long bytes = Repacked.copyBytes(this);
                    if (!copyFits(bytes)) {
                        // too little memory left for the copy: this matrix keeps the kernels that read the mapped file
                        repackChecked = true;
                        return null;
                    }
                    // read ahead in large sequential requests, rather than page fault by page fault while copying
                    if (readAhead) mappedSources().forEach(MemorySegment::load);
                    repacked = Repacked.of(this, pool);
                    if (repacked != null) mappedSources().forEach(MemorySegment::unload);
                }
                repackChecked = true;
            }
            return repacked;
        }
    }

    /**
     * Makes the kernels' own copy now rather than on first use (for Q4_0/Q8_0/Q6_K/BF16 matrices the decode kernels
     * can take), reading the source ahead first, or else, for a mapped matrix of {@link #RESIDENT_MIN_BYTES} and more
     * (BF16 rows too short for quads, F16/F32, Q6_K without 512-bit vectors), a {@link #resident} copy in huge pages;
     * returns whether the matrix is served from a copy, in which case the memory of {@link #sources} is no longer
     * read.
     */
    public boolean prepare(WorkerPool pool) {
        return repacked(pool, true) != null || resident(pool, RESIDENT_MIN_BYTES);
    }

    /**
     * Mapped matrices from this size on that no {@link Repacked} layout takes get a {@link #resident} copy: every
     * projection of a real model (the smallest, a Q4_0 Wo of the small shape, is 0.56 MB and repacked anyway); the
     * tiny ones of test checkpoints stay on the mapped bytes.
     */
    static final long RESIDENT_MIN_BYTES = 1L << 20;

    /**
     * Copies the rows of a matrix that lives wholly in file mappings, of {@code minBytes} and more, into one buffer of
     * huge pages, in the same layout (rows packed, column slices compacted), and serves the kernels from it; the
     * mapped pages are released, as after a {@link Repacked} copy. Returns whether the matrix is served from such a
     * copy. Why: a file mapping is in 4 KB pages, and right after a prefill the Q6_K output layer of the small model
     * (215 MB, 52 500 pages) took 17–20 ms where it takes 8 in decode, in huge pages 9.6–10 (bench/NOTES.md, step 46):
     * the page walks of the first pass after other work, not the bytes. In decode the small BF16 model's projections
     * (2–8 MB each, rows of 2 KB; in quads since step 59) streamed 12–18 % faster from such copies (step 52). Skipped
     * where memory is short ({@link RepackBudget}), like the repacked copies, and with {@code -Dn4j.noRepack=true}.
     */
    synchronized boolean resident(WorkerPool pool, long minBytes) {
        if (blocks != original) return true;
        long bytes = 0;
        for (Block b : original) {
            if (!b.data.isMapped()) return false;
            bytes += b.rows * dtype.bytesFor(b.cols);
        }
        if (bytes < minBytes || Boolean.getBoolean("n4j.noRepack") || !copyFits(bytes)) return false;
        mappedSources().forEach(MemorySegment::load);   // large sequential reads rather than a fault per page
        MemorySegment copy = NativeBuffers.allocateUninitialized(bytes, 64);
        Block[] out = new Block[original.length];
        long at = 0;
        for (int i = 0; i < original.length; i++) {
            Block b = original[i];
            long rowBytes = dtype.bytesFor(b.cols), base = at;
            pool.forRange(b.rows, rowBytes, (chunk, r0, r1) -> {
                if (b.rowStride == rowBytes) {
                    MemorySegment.copy(b.data, b.offset + r0 * rowBytes, copy, base + r0 * rowBytes, (r1 - r0) * rowBytes);
                } else {
                    for (long r = r0; r < r1; r++) MemorySegment.copy(b.data, b.offset + r * b.rowStride, copy, base + r * rowBytes, rowBytes);
                }
            });
            out[i] = new Block(b.rowStart, b.rows, b.colStart, b.cols, copy, base, rowBytes);
            at += b.rows * rowBytes;
        }
        blocks = out;
        mappedSources().forEach(MemorySegment::unload);
        return true;
    }

    /**
     * Whether a copy of this matrix of {@code bytes} leaves enough memory free ({@link RepackBudget}); the first refusal
     * in a JVM is logged once, naming the matrix (a big model would otherwise log hundreds).
     */
    private boolean copyFits(long bytes) {
        if (RepackBudget.allows(bytes)) return true;
        if (!WARNED.getAndSet(true)) {
            LOG.log(System.Logger.Level.WARNING, refusal(name, bytes, RepackBudget.available()));
        }
        return false;
    }

    /**
     * The warning for a refused copy, formatted here: as a logger's pattern the apostrophe in "kernels'" quoted the
     * placeholders after it, and the warning named none of them.
     */
    static String refusal(String name, long bytes, long available) {
        return String.format(java.util.Locale.ROOT, "not enough free memory for the kernels' weight copies (the first refused: "
                + "%s, %d MB, with %d MB available); such matrices stay on the kernels that read the mapped file (slower "
                + "decode)", name, bytes >> 20, available >> 20);
    }

    /** The memory each block was bound to (the checkpoint's tensor data these rows came from), copied or not. */
    public List<MemorySegment> sources() {
        return Arrays.stream(original).map(Block::data).toList();
    }

    /** The bytes of each block that come from a file mapping. */
    private List<MemorySegment> mappedSources() {
        return Arrays.stream(original).filter(b -> b.data.isMapped())
                .map(b -> b.data.asSlice(b.offset, (b.rows - 1L) * b.rowStride + dtype.bytesFor(b.cols))).toList();
    }

    public String name() {
        return name;
    }

    public DType dtype() {
        return dtype;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    Block[] blocks() {
        return blocks;
    }

    public long byteSize() {
        return dtype.bytesFor((long) rows * cols);
    }

    /** Rows {@code [start, start+count)} as a matrix of {@code count} rows. */
    public WeightMatrix sliceRows(int start, int count) {
        checkRange(start, count, rows, "rows");
        List<Block> out = new ArrayList<>();
        for (Block b : blocks) {
            int lo = Math.max(start, b.rowStart), hi = Math.min(start + count, b.rowStart + b.rows);
            if (lo >= hi) continue;
            out.add(new Block(lo - start, hi - lo, b.colStart, b.cols, b.data,
                    b.offset + (long) (lo - b.rowStart) * b.rowStride, b.rowStride));
        }
        return new WeightMatrix(name + "[rows " + start + ".." + (start + count) + ")", dtype, count, cols, out);
    }

    /** Columns {@code [start, start+count)}: the input slice a row-parallel rank multiplies with. */
    public WeightMatrix sliceCols(int start, int count) {
        checkRange(start, count, cols, "cols");
        List<Block> out = new ArrayList<>();
        for (Block b : blocks) {
            int lo = Math.max(start, b.colStart), hi = Math.min(start + count, b.colStart + b.cols);
            if (lo >= hi) continue;
            // for block-quantized weights a column slice must start and end on block boundaries
            out.add(new Block(b.rowStart, b.rows, lo - start, hi - lo, b.data,
                    b.offset + dtype.bytesFor(lo - b.colStart), b.rowStride));
        }
        return new WeightMatrix(name + "[cols " + start + ".." + (start + count) + ")", dtype, rows, count, out);
    }

    /** Matrices with the same columns and dtype stacked vertically (q, k and v become one projection). */
    public static WeightMatrix stackRows(String name, WeightMatrix... parts) {
        List<Block> out = new ArrayList<>();
        int r = 0;
        for (WeightMatrix m : parts) {
            if (m.cols != parts[0].cols || m.dtype != parts[0].dtype) {
                throw new CheckpointException("cannot stack '" + m.name + "' (" + m.dtype + " [" + m.rows + ", " + m.cols
                        + "]) under '" + parts[0].name + "' (" + parts[0].dtype + " [.., " + parts[0].cols + "])");
            }
            for (Block b : m.blocks) {
                out.add(new Block(b.rowStart + r, b.rows, b.colStart, b.cols, b.data, b.offset, b.rowStride));
            }
            r += m.rows;
        }
        return new WeightMatrix(name, parts[0].dtype, r, parts[0].cols, out);
    }

    /** Row {@code r} widened to floats (an embedding lookup). */
    public void readRow(int r, float[] dst, int dstOff) {
        if (r < 0 || r >= rows) throw new IndexOutOfBoundsException("row " + r + " of " + name + " [" + rows + ", " + cols + "]");
        for (Block b : blocks) {
            if (r >= b.rowStart && r < b.rowStart + b.rows) {
                VectorDot.toFloats(dtype, b.data, b.offset + (long) (r - b.rowStart) * b.rowStride, dst,
                        dstOff + b.colStart, b.cols);
            }
        }
    }

    private void checkRange(int start, int count, int size, String what) {
        if (start < 0 || count < 0 || start + count > size) {
            throw new IllegalArgumentException(what + " [" + start + ", " + (start + count) + ") outside " + name
                    + " with " + size + " " + what);
        }
    }

    @Override
    public String toString() {
        return name + " " + dtype + "[" + rows + ", " + cols + "] in " + blocks.length + " block(s)";
    }
}
