package dev.nemotron4j.loader.nemo;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Writes small tar archives for tests, including hostile ones (names with "..", absolute paths, PAX paths). */
final class TarBuilder {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    TarBuilder file(String name, byte[] data) {
        if (name.getBytes(StandardCharsets.UTF_8).length > 99) {
            byte[] rec = pax("path", name);
            header("././@PaxHeader", rec.length, 'x');
            body(rec);
            header("long-name-placeholder", data.length, '0');
        } else {
            header(name, data.length, '0');
        }
        body(data);
        return this;
    }

    TarBuilder file(String name, String text) {
        return file(name, text.getBytes(StandardCharsets.UTF_8));
    }

    byte[] build() {
        out.writeBytes(new byte[1024]);
        return out.toByteArray();
    }

    private static byte[] pax(String key, String value) {
        String body = " " + key + "=" + value + "\n";
        int len = body.length();
        int total = len + String.valueOf(len).length();
        if (String.valueOf(total).length() != String.valueOf(len).length()) total++;
        return (total + body).getBytes(StandardCharsets.UTF_8);
    }

    private void header(String name, long size, char type) {
        byte[] h = new byte[512];
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(n, 0, h, 0, Math.min(100, n.length));
        put(h, 100, "0000644");
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, String.format("%011o", size));
        put(h, 136, "00000000000");
        h[156] = (byte) type;
        put(h, 257, "ustar");
        put(h, 263, "00");
        for (int i = 148; i < 156; i++) h[i] = ' ';
        long sum = 0;
        for (byte b : h) sum += b & 0xFF;
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        h[155] = ' ';
        out.writeBytes(h);
    }

    private void body(byte[] data) {
        out.writeBytes(data);
        int pad = (int) ((512 - data.length % 512) % 512);
        out.writeBytes(new byte[pad]);
    }

    private static void put(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, off, b.length);
    }
}
