package dev.nemotron4j.engine.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Large off-heap buffers that are written in full right after allocation (the repacked weights). {@link Arena}
 * zero-fills what it allocates, in the allocating thread, so a 4 GB copy was first zeroed by one core and then
 * written again by the pool (on this VM every first touch of a page also costs the host a fault). Here the memory
 * comes from the C library's {@code posix_memalign} through the FFM linker, untouched, and is freed when the returned
 * segment becomes unreachable. All of it is in huge pages, advised {@code MADV_HUGEPAGE} (this machine's transparent
 * huge pages are "madvise"): first-touching 3.8 GB took 11.0 s in 4 KB pages and 2.2 s in huge pages (bench/NOTES.md,
 * step 14). Buffers of 16 MB and more are aligned to 2 MB on their own; smaller ones are cut one after another from
 * shared 32 MB chunks. The small ones matter too: the projections of a layer are 1–16 MB each, and in 4 KB pages (the
 * file mapping's, or a small buffer's) small BF16 decode streamed them at 29–38 GB/s, against 45 for its output layer
 * in huge pages; in huge pages they went 12–18 % faster (bench/NOTES.md, step 52). Without native access (or libc)
 * it falls back to {@code Arena.ofAuto()}.
 */
final class NativeBuffers {
    private static final MethodHandle MEMALIGN, FREE, MADVISE;
    private static final long HUGE = 2L << 20;
    /** The size of the shared chunks smaller buffers are cut from; buffers of half of it and more come on their own. */
    static final long CHUNK = 32L << 20;
    private static final int MADV_HUGEPAGE = 14;

    static {
        MethodHandle memalign = null, free = null, madvise = null;
        try {
            Linker linker = Linker.nativeLinker();
            var libc = linker.defaultLookup();
            memalign = linker.downcallHandle(libc.find("posix_memalign").orElseThrow(), FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
            free = linker.downcallHandle(libc.find("free").orElseThrow(), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
            if (System.getProperty("os.name", "").startsWith("Linux")) {
                madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(), FunctionDescriptor.of(
                        ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
            }
        } catch (RuntimeException | LinkageError e) {
            memalign = null;
        }
        MEMALIGN = memalign;
        FREE = free;
        MADVISE = madvise;
    }

    private NativeBuffers() {
    }

    /**
     * The chunk small buffers are being cut from, and where its free part begins. A chunk's memory is freed once no
     * buffer cut from it is reachable and it is no longer the current chunk: at most one chunk (32 MB of address
     * space, of which only the pages written are memory) outlives the models that used it.
     */
    private static MemorySegment chunk;
    private static long chunkUsed;

    /**
     * {@code bytes} of uninitialized memory aligned to {@code align} (at most 2 MB), freed once unreachable: buffers of
     * half a chunk ({@link #CHUNK}) and more on their own, smaller ones cut from the current chunk (a new chunk
     * where it has too little left).
     */
    static MemorySegment allocateUninitialized(long bytes, long align) {
        if (bytes <= 0 || bytes >= CHUNK / 2 || MADVISE == null) return allocate(bytes, align);
        synchronized (NativeBuffers.class) {
            long at = chunk == null ? 0 : (chunkUsed + align - 1) / align * align;
            if (chunk == null || at + bytes > chunk.byteSize()) {
                chunk = allocate(CHUNK, HUGE);
                at = 0;
            }
            chunkUsed = at + bytes;
            return chunk.asSlice(at, bytes);
        }
    }

    /** {@code bytes} of their own, aligned to 2 MB and advised huge pages where {@code madvise} is there. */
    private static MemorySegment allocate(long bytes, long align) {
        if (MEMALIGN != null && bytes > 0) {
            try (Arena tmp = Arena.ofConfined()) {
                MemorySegment out = tmp.allocate(ValueLayout.ADDRESS);
                boolean huge = MADVISE != null;
                int rc = (int) MEMALIGN.invokeExact(out, huge ? Math.max(align, HUGE) : align, bytes);
                if (rc == 0) {
                    MemorySegment p = out.get(ValueLayout.ADDRESS, 0);
                    if (huge) {
                        int ignored = (int) MADVISE.invokeExact(p, bytes, MADV_HUGEPAGE);   // a hint; failure is harmless
                    }
                    return p.reinterpret(bytes, Arena.ofAuto(), NativeBuffers::free);
                }
            } catch (Throwable e) {
                // fall through to the zeroing allocator
            }
        }
        return Arena.ofAuto().allocate(bytes, align);
    }

    private static void free(MemorySegment p) {
        try {
            FREE.invokeExact(p);
        } catch (Throwable e) {
            throw new IllegalStateException("free() failed", e);
        }
    }
}
