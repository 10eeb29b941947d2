package dev.nemotron4j.loader.nemo;

import dev.nemotron4j.loader.CheckpointException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;

/**
 * The members of an uncompressed POSIX tar, as slices of the mapped archive (nothing is extracted). Reads
 * ustar headers with their prefix field, PAX extended headers (path, size) and GNU long names. Member names
 * are normalised ("./a/b" → "a/b"); a name that is absolute or climbs out with ".." is refused, as is a
 * member that reaches beyond the end of the file.
 */
public final class TarArchive {
    private static final int BLOCK = 512;

    private final String origin;
    private final SequencedMap<String, MemorySegment> members;

    private TarArchive(String origin, SequencedMap<String, MemorySegment> members) {
        this.origin = origin;
        this.members = members;
    }

    public static TarArchive read(MemorySegment tar, String origin) {
        long size = tar.byteSize();
        SequencedMap<String, MemorySegment> members = new LinkedHashMap<>();
        long pos = 0;
        String paxPath = null, gnuLongName = null;
        long paxSize = -1;
        Map<String, String> globalPax = new LinkedHashMap<>();
        while (true) {
            if (pos + BLOCK > size) {
                if (pos == size && !members.isEmpty()) break; // no end-of-archive blocks: tolerated
                throw new CheckpointException(origin + ": truncated tar archive (header at byte " + pos + " of " + size + ")");
            }
            byte[] h = tar.asSlice(pos, BLOCK).toArray(ValueLayout.JAVA_BYTE);
            if (isZero(h)) break; // end of archive
            verifyChecksum(h, origin, pos);
            char type = h[156] == 0 ? '0' : (char) h[156];
            long entrySize = paxSize >= 0 ? paxSize : octalOrBinary(h, 124, 12, origin, pos);
            long dataStart = pos + BLOCK;
            if (entrySize < 0 || entrySize > size - dataStart) {
                throw new CheckpointException(origin + ": tar member at byte " + pos + " claims " + entrySize
                        + " bytes but the archive ends at " + size + " (truncated?)");
            }
            MemorySegment data = tar.asSlice(dataStart, entrySize);
            switch (type) {
                case 'x' -> {
                    Map<String, String> pax = parsePax(data, origin);
                    paxPath = pax.get("path");
                    paxSize = pax.containsKey("size") ? Long.parseLong(pax.get("size")) : -1;
                }
                case 'g' -> globalPax.putAll(parsePax(data, origin));
                case 'L' -> gnuLongName = cString(data.toArray(ValueLayout.JAVA_BYTE), 0, (int) entrySize);
                default -> {
                    String name = paxPath != null ? paxPath : gnuLongName != null ? gnuLongName : ustarName(h);
                    String normal = normalise(name, origin);
                    if (type == '0' || type == '7') {
                        if (!normal.isEmpty()) members.put(normal, data);
                    } else if (type != '5' && type != '1' && type != '2') {
                        // character/block devices, FIFOs, sparse files: nothing a checkpoint holds
                        throw new CheckpointException(origin + ": tar member '" + name + "' has unsupported type '" + type + "'");
                    }
                    paxPath = null;
                    gnuLongName = null;
                    paxSize = -1;
                }
            }
            pos = dataStart + (entrySize + BLOCK - 1) / BLOCK * BLOCK;
        }
        return new TarArchive(origin, members);
    }

    public SequencedMap<String, MemorySegment> members() {
        return members;
    }

    public String origin() {
        return origin;
    }

    /** "./a//b/" → "a/b"; absolute paths and ".." components are refused. */
    static String normalise(String name, String origin) {
        if (name.startsWith("/") || name.matches("^[A-Za-z]:[\\\\/].*")) {
            throw new CheckpointException(origin + ": tar member '" + name + "' has an absolute path; refusing the archive");
        }
        StringBuilder out = new StringBuilder();
        for (String part : name.replace('\\', '/').split("/")) {
            if (part.isEmpty() || part.equals(".")) continue;
            if (part.equals("..")) {
                throw new CheckpointException(origin + ": tar member '" + name + "' escapes the archive with '..'; refusing the archive");
            }
            if (!out.isEmpty()) out.append('/');
            out.append(part);
        }
        return out.toString();
    }

    private static String ustarName(byte[] h) {
        String name = cString(h, 0, 100);
        boolean ustar = new String(h, 257, 5, StandardCharsets.US_ASCII).equals("ustar");
        String prefix = ustar ? cString(h, 345, 155) : "";
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    private static Map<String, String> parsePax(MemorySegment data, String origin) {
        byte[] b = data.toArray(ValueLayout.JAVA_BYTE);
        Map<String, String> out = new LinkedHashMap<>();
        int i = 0;
        while (i < b.length) {
            int sp = i;
            while (sp < b.length && b[sp] != ' ') sp++;
            int len;
            try {
                len = Integer.parseInt(new String(b, i, sp - i, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw new CheckpointException(origin + ": corrupt PAX header record");
            }
            if (len <= 0 || i + len > b.length) throw new CheckpointException(origin + ": corrupt PAX header record length");
            String rec = new String(b, sp + 1, i + len - sp - 2, StandardCharsets.UTF_8); // without the trailing \n
            int eq = rec.indexOf('=');
            if (eq > 0) out.put(rec.substring(0, eq), rec.substring(eq + 1));
            i += len;
        }
        return out;
    }

    private static long octalOrBinary(byte[] h, int off, int len, String origin, long pos) {
        if ((h[off] & 0x80) != 0) { // GNU base-256 for sizes ≥ 8 GiB
            long v = h[off] & 0x7F;
            for (int i = 1; i < len; i++) v = (v << 8) | (h[off + i] & 0xFF);
            return v;
        }
        String s = cString(h, off, len).trim();
        if (s.isEmpty()) return 0;
        try {
            return Long.parseLong(s, 8);
        } catch (NumberFormatException e) {
            throw new CheckpointException(origin + ": corrupt tar header at byte " + pos + " (size field '" + s + "')");
        }
    }

    private static void verifyChecksum(byte[] h, String origin, long pos) {
        long stored;
        String s = cString(h, 148, 8).trim();
        try {
            stored = Long.parseLong(s, 8);
        } catch (NumberFormatException e) {
            throw new CheckpointException(origin + ": not a tar archive, or corrupt (bad header checksum field at byte " + pos + ")");
        }
        long sum = 0;
        for (int i = 0; i < BLOCK; i++) sum += (i >= 148 && i < 156) ? ' ' : (h[i] & 0xFF);
        if (sum != stored) {
            throw new CheckpointException(origin + ": corrupt tar header at byte " + pos + " (checksum " + stored
                    + ", computed " + sum + ")");
        }
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) end++;
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    private static boolean isZero(byte[] h) {
        for (byte x : h) if (x != 0) return false;
        return true;
    }
}
