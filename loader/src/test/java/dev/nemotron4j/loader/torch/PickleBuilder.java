package dev.nemotron4j.loader.torch;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Hand-assembled pickles (and torch.save-style ZIPs around them) for tests, hostile ones included. */
public final class PickleBuilder {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public PickleBuilder() {
        out.write(0x80);
        out.write(2);
    }

    public PickleBuilder op(int... bytes) {
        for (int b : bytes) out.write(b);
        return this;
    }

    public PickleBuilder global(String module, String name) {
        out.write('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
        return this;
    }

    public PickleBuilder str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write('X');
        out.write(b.length & 0xFF);
        out.write(b.length >> 8 & 0xFF);
        out.write(b.length >> 16 & 0xFF);
        out.write(b.length >>> 24);
        out.writeBytes(b);
        return this;
    }

    public PickleBuilder int1(int v) {
        return op('K', v);
    }

    public byte[] stop() {
        out.write('.');
        return out.toByteArray();
    }

    /** {@code {name: tensor}} for one F32 tensor of {@code shape} whose storage is entry "0". */
    public static byte[] stateDictPickle(String name, int... shape) {
        PickleBuilder p = new PickleBuilder().op('}', '(').str(name).global("torch._utils", "_rebuild_tensor_v2").op('(', '(')
                .str("storage").global("torch", "FloatStorage").str("0").str("cpu");
        int numel = 1;
        for (int s : shape) numel *= s;
        p.op('J', numel & 0xFF, numel >> 8 & 0xFF, numel >> 16 & 0xFF, numel >>> 24).op('t', 'Q').int1(0).op('(');
        for (int s : shape) p.int1(s);
        p.op('t', '(');
        int stride = numel;
        for (int s : shape) {
            stride /= s;
            p.int1(stride);
        }
        p.op('t', 0x89).global("collections", "OrderedDict").op(')', 'R', 't', 'R', 'u');
        return p.stop();
    }

    /** A torch.save-style ZIP: archive/data.pkl plus archive/data/0, entries STORED. */
    public static byte[] torchZip(byte[] pickle, byte[] storage0) throws java.io.IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            stored(z, "archive/data.pkl", pickle);
            if (storage0 != null) stored(z, "archive/data/0", storage0);
            stored(z, "archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
        return bytes.toByteArray();
    }

    private static void stored(ZipOutputStream z, String name, byte[] data) throws java.io.IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        z.putNextEntry(e);
        z.write(data);
        z.closeEntry();
    }
}
