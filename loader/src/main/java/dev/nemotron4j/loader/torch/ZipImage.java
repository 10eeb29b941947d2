package dev.nemotron4j.loader.torch;

import dev.nemotron4j.loader.CheckpointException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The STORED (uncompressed) entries of a ZIP held in a mapped segment, as slices of it: the container of
 * {@code torch.save} files. Reads the central directory, with ZIP64 sizes and offsets; refuses compressed
 * entries (torch never writes them) and entries that reach past the end.
 */
public final class ZipImage {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Map<String, MemorySegment> entries;

    private ZipImage(Map<String, MemorySegment> entries) {
        this.entries = entries;
    }

    public Map<String, MemorySegment> entries() {
        return entries;
    }

    public static boolean looksLikeZip(MemorySegment s) {
        return s.byteSize() >= 4 && s.get(I32, 0) == 0x04034b50;
    }

    public static ZipImage read(MemorySegment z, String origin) {
        long size = z.byteSize();
        long eocd = -1;
        for (long p = size - 22; p >= Math.max(0, size - 22 - 65535); p--) {
            if (z.get(I32, p) == 0x06054b50) {
                eocd = p;
                break;
            }
        }
        if (eocd < 0) {
            throw new CheckpointException(origin + ": not a ZIP (torch.save) file, or truncated: no end-of-central-directory record");
        }
        long count = u16(z, eocd + 10);
        long cdSize = u32(z, eocd + 12);
        long cdOffset = u32(z, eocd + 16);
        if (count == 0xFFFF || cdOffset == 0xFFFFFFFFL || cdSize == 0xFFFFFFFFL) {
            long loc = eocd - 20;
            if (loc < 0 || z.get(I32, loc) != 0x07064b50) {
                throw new CheckpointException(origin + ": ZIP64 locator missing");
            }
            long rec = z.get(I64, loc + 8);
            if (rec < 0 || rec + 56 > size || z.get(I32, rec) != 0x06064b50) {
                throw new CheckpointException(origin + ": ZIP64 end-of-central-directory record missing or corrupt");
            }
            count = z.get(I64, rec + 32);
            cdSize = z.get(I64, rec + 40);
            cdOffset = z.get(I64, rec + 48);
        }
        if (cdOffset < 0 || cdOffset + cdSize > size) {
            throw new CheckpointException(origin + ": ZIP central directory lies outside the file (truncated?)");
        }
        Map<String, MemorySegment> entries = new LinkedHashMap<>();
        long p = cdOffset;
        for (long i = 0; i < count; i++) {
            if (p + 46 > size || z.get(I32, p) != 0x02014b50) {
                throw new CheckpointException(origin + ": corrupt ZIP central directory entry " + i);
            }
            int method = u16(z, p + 10);
            long compSize = u32(z, p + 20), plainSize = u32(z, p + 24);
            int nameLen = u16(z, p + 28), extraLen = u16(z, p + 30), commentLen = u16(z, p + 32);
            long localOffset = u32(z, p + 42);
            String name = new String(z.asSlice(p + 46, nameLen).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            long e = p + 46 + nameLen, eEnd = e + extraLen;
            while (e + 4 <= eEnd) { // ZIP64 extended information replaces the saturated fields, in order
                int id = u16(z, e), len = u16(z, e + 2);
                if (id == 0x0001) {
                    long f = e + 4;
                    if (plainSize == 0xFFFFFFFFL) { plainSize = z.get(I64, f); f += 8; }
                    if (compSize == 0xFFFFFFFFL) { compSize = z.get(I64, f); f += 8; }
                    if (localOffset == 0xFFFFFFFFL) { localOffset = z.get(I64, f); }
                }
                e += 4 + len;
            }
            if (method != 0) {
                throw new CheckpointException(origin + ": ZIP entry '" + name + "' is compressed (method " + method
                        + "); torch.save files store entries uncompressed");
            }
            if (localOffset < 0 || localOffset + 30 > size || z.get(I32, localOffset) != 0x04034b50) {
                throw new CheckpointException(origin + ": ZIP entry '" + name + "' has no local header (corrupt or truncated)");
            }
            long dataStart = localOffset + 30 + u16(z, localOffset + 26) + u16(z, localOffset + 28);
            if (dataStart + compSize > size || compSize != plainSize) {
                throw new CheckpointException(origin + ": ZIP entry '" + name + "' (" + compSize + " bytes at " + dataStart
                        + ") reaches past the end of the file (" + size + " bytes): truncated");
            }
            entries.put(name, z.asSlice(dataStart, compSize));
            p += 46 + nameLen + extraLen + commentLen;
        }
        return new ZipImage(entries);
    }

    private static int u16(MemorySegment z, long off) {
        return z.get(I16, off) & 0xFFFF;
    }

    private static long u32(MemorySegment z, long off) {
        return z.get(I32, off) & 0xFFFFFFFFL;
    }
}
