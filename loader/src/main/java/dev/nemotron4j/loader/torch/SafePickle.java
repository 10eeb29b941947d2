package dev.nemotron4j.loader.torch;

import dev.nemotron4j.loader.CheckpointException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A closed interpreter for the pickles {@code torch.save} writes. It never imports, calls or executes
 * anything: {@code GLOBAL} yields an inert {@link Global} name, and only the constructors in
 * {@link #INERT_CALLS} may be "called" — which builds a plain {@link Call} record (or, for the tensor
 * rebuild functions, a {@link TensorRef}). A call of any other global fails at once with a
 * {@link PickleSecurityException} naming it; since nothing had been executed, nothing has run.
 */
public final class SafePickle {

    /** A module-level name the pickle referred to; an inert placeholder. */
    public record Global(String module, String name) {
        public String qualified() {
            return module + "." + name;
        }
    }

    /** An allowed constructor applied to arguments, recorded but not run; {@code state} is set by BUILD. */
    public static final class Call {
        public final Global callee;
        public final List<Object> args;
        public Object state;

        Call(Global callee, List<Object> args) {
            this.callee = callee;
            this.args = args;
        }

        @Override
        public String toString() {
            return callee.qualified() + args;
        }
    }

    /** {@code ('storage', torch.XStorage, key, location, numel)} from a persistent id. */
    public record StorageRef(String storageType, String key, long numel) {
    }

    /** {@code torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)}; offset and stride in elements. */
    public record TensorRef(StorageRef storage, long storageOffset, long[] size, long[] stride) {
    }

    /** A pickled tuple. */
    public record Tuple(List<Object> items) {
    }

    private static final Object MARK = new Object() {
        @Override
        public String toString() {
            return "MARK";
        }
    };

    /** Constructors torch checkpoints (and their _extra_state and DCP metadata) use; recorded, never run. */
    static final Set<String> INERT_CALLS = Set.of(
            "collections.OrderedDict",
            "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_tensor",
            "torch._utils._rebuild_parameter",
            "torch.Size",
            "torch.device",
            "torch.serialization._get_layout",
            "_io.BytesIO",
            "io.BytesIO",
            "_codecs.encode",
            "builtins.set",
            "builtins.frozenset",
            "builtins.bytearray",
            "builtins.slice",
            "torch.distributed.checkpoint.metadata.Metadata",
            "torch.distributed.checkpoint.metadata.TensorStorageMetadata",
            "torch.distributed.checkpoint.metadata.BytesStorageMetadata",
            "torch.distributed.checkpoint.metadata.ChunkStorageMetadata",
            "torch.distributed.checkpoint.metadata.TensorProperties",
            "torch.distributed.checkpoint.metadata.MetadataIndex",
            "torch.distributed.checkpoint.filesystem._StorageInfo",
            "torch.distributed.checkpoint.planner.LoadItemType",
            "torch.distributed.checkpoint.planner.WriteItemType");

    private final MemorySegment data;
    private final String origin;
    private long pos;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private long memoNext;

    private SafePickle(MemorySegment data, String origin) {
        this.data = data;
        this.origin = origin;
    }

    /** Interprets the pickle and returns its top object. */
    public static Object load(MemorySegment data, String origin) {
        return new SafePickle(data, origin).run();
    }

    private Object run() {
        try {
            while (true) {
                int op = u8();
                switch (op) {
                    case 0x80 -> u8(); // PROTO
                    case 0x95 -> pos += 8; // FRAME
                    case '.' -> { // STOP
                        return pop();
                    }
                    case '(' -> stack.add(MARK);
                    case '}' -> stack.add(new LinkedHashMap<>());
                    case ']' -> stack.add(new ArrayList<>());
                    case ')' -> stack.add(new Tuple(List.of()));
                    case 0x8f -> stack.add(new ArrayList<>()); // EMPTY_SET (as a list)
                    case 't' -> stack.add(new Tuple(popMark()));
                    case 0x85 -> stack.add(new Tuple(List.of(pop())));
                    case 0x86 -> {
                        Object b = pop(), a = pop();
                        stack.add(new Tuple(Arrays.asList(a, b)));
                    }
                    case 0x87 -> {
                        Object c = pop(), b = pop(), a = pop();
                        stack.add(new Tuple(Arrays.asList(a, b, c)));
                    }
                    case 'l' -> stack.add(new ArrayList<>(popMark()));
                    case 'd' -> {
                        List<Object> kv = popMark();
                        Map<Object, Object> m = new LinkedHashMap<>();
                        for (int i = 0; i + 1 < kv.size(); i += 2) m.put(key(kv.get(i)), kv.get(i + 1));
                        stack.add(m);
                    }
                    case 'N' -> stack.add(null);
                    case 0x88 -> stack.add(Boolean.TRUE);
                    case 0x89 -> stack.add(Boolean.FALSE);
                    case 'J' -> stack.add((long) i32());
                    case 'K' -> stack.add((long) u8());
                    case 'M' -> stack.add((long) u16());
                    case 0x8a -> stack.add(longN(u8())); // LONG1
                    case 0x8b -> stack.add(longN(checkedLength(i32()))); // LONG4
                    case 'G' -> stack.add(Double.longBitsToDouble(data.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), take(8))));
                    case 'X' -> stack.add(utf8(checkedLength(i32())));
                    case 0x8c -> stack.add(utf8(u8())); // SHORT_BINUNICODE
                    case 0x8d -> stack.add(utf8(checkedLength(i64()))); // BINUNICODE8
                    case 'T' -> stack.add(latin1(checkedLength(i32()))); // BINSTRING
                    case 'U' -> stack.add(latin1(u8())); // SHORT_BINSTRING
                    case 'B' -> stack.add(bytes(checkedLength(i32()))); // BINBYTES
                    case 'C' -> stack.add(bytes(u8())); // SHORT_BINBYTES
                    case 0x8e -> stack.add(bytes(checkedLength(i64()))); // BINBYTES8
                    case 'c' -> stack.add(new Global(line(), line())); // GLOBAL
                    case 0x93 -> { // STACK_GLOBAL
                        Object name = pop(), module = pop();
                        stack.add(new Global(String.valueOf(module), String.valueOf(name)));
                    }
                    case 'q' -> memo.put((long) u8(), peek()); // BINPUT
                    case 'r' -> memo.put((long) i32(), peek()); // LONG_BINPUT
                    case 0x94 -> memo.put(memoNext++, peek()); // MEMOIZE
                    case 'h' -> stack.add(memoGet(u8())); // BINGET
                    case 'j' -> stack.add(memoGet(i32())); // LONG_BINGET
                    case '0' -> pop(); // POP
                    case '1' -> popMark(); // POP_MARK
                    case '2' -> stack.add(peek()); // DUP
                    case 's' -> { // SETITEM
                        Object v = pop(), k = pop();
                        dict(peek()).put(key(k), v);
                    }
                    case 'u' -> { // SETITEMS
                        List<Object> kv = popMark();
                        Map<Object, Object> m = dict(peek());
                        for (int i = 0; i + 1 < kv.size(); i += 2) m.put(key(kv.get(i)), kv.get(i + 1));
                    }
                    case 'a' -> { // APPEND
                        Object v = pop();
                        list(peek()).add(v);
                    }
                    case 'e', 0x90 -> { // APPENDS, ADDITEMS
                        List<Object> items = popMark();
                        list(peek()).addAll(items);
                    }
                    case 'Q' -> stack.add(persistentId(pop())); // BINPERSID
                    case 'R' -> { // REDUCE
                        Object args = pop(), callee = pop();
                        stack.add(call(callee, args));
                    }
                    case 0x81 -> { // NEWOBJ
                        Object args = pop(), cls = pop();
                        stack.add(call(cls, args));
                    }
                    case 0x92 -> { // NEWOBJ_EX
                        pop();
                        Object args = pop(), cls = pop();
                        stack.add(call(cls, args));
                    }
                    case 'b' -> { // BUILD: record the state, never call __setstate__
                        Object state = pop();
                        if (peek() instanceof Call c) c.state = state;
                    }
                    case 0x91 -> stack.add(new ArrayList<>(popMark())); // FROZENSET
                    default -> throw new CheckpointException(origin + ": unsupported pickle opcode 0x"
                            + Integer.toHexString(op) + " at byte " + (pos - 1) + " (not a torch.save pickle?)");
                }
            }
        } catch (IndexOutOfBoundsException e) {
            throw new CheckpointException(origin + ": pickle is truncated or corrupt (at byte " + pos + ")", e);
        }
    }

    private Object call(Object callee, Object args) {
        if (!(callee instanceof Global g)) {
            throw new PickleSecurityException(origin + ": pickle calls a non-global object " + describe(callee)
                    + "; refused");
        }
        if (!INERT_CALLS.contains(g.qualified()) && !isCheckpointMetadataClass(g)) {
            throw new PickleSecurityException(origin + ": pickle tries to call " + g.qualified()
                    + ", which a model checkpoint never needs; refused before anything ran");
        }
        List<Object> a = args instanceof Tuple t ? t.items() : List.of(args);
        return switch (g.qualified()) {
            case "collections.OrderedDict" -> new LinkedHashMap<>();
            case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor" -> tensor(a);
            case "torch._utils._rebuild_parameter" -> a.getFirst();
            case "torch.Size" -> a.isEmpty() ? new Tuple(List.of()) : a.getFirst();
            default -> new Call(g, a);
        };
    }

    /** PyTorch DCP metadata is made of plain dataclasses and enums of this package; recording them runs nothing. */
    private static boolean isCheckpointMetadataClass(Global g) {
        String n = g.name().startsWith("_") ? g.name().substring(1) : g.name();
        return g.module().startsWith("torch.distributed.checkpoint.") && !n.isEmpty() && Character.isUpperCase(n.charAt(0));
    }

    private TensorRef tensor(List<Object> a) {
        if (a.size() < 4 || !(a.get(0) instanceof StorageRef s)) {
            throw new CheckpointException(origin + ": malformed tensor record " + a);
        }
        return new TensorRef(s, asLong(a.get(1)), longs(a.get(2)), longs(a.get(3)));
    }

    private StorageRef persistentId(Object pid) {
        List<Object> items = pid instanceof Tuple t ? t.items() : List.of();
        if (items.size() < 5 || !"storage".equals(items.get(0))) {
            throw new CheckpointException(origin + ": unsupported persistent id " + describe(pid));
        }
        String type = items.get(1) instanceof Global g ? g.name() : String.valueOf(items.get(1));
        return new StorageRef(type, String.valueOf(items.get(2)), asLong(items.get(4)));
    }

    private long[] longs(Object o) {
        List<Object> items = o instanceof Tuple t ? t.items() : o instanceof List<?> l ? new ArrayList<>(l) : null;
        if (items == null) throw new CheckpointException(origin + ": expected a tuple of integers, got " + describe(o));
        long[] out = new long[items.size()];
        for (int i = 0; i < out.length; i++) out[i] = asLong(items.get(i));
        return out;
    }

    private long asLong(Object o) {
        if (o instanceof Long l) return l;
        if (o instanceof BigInteger b) {
            if (b.bitLength() > 63) throw new CheckpointException(origin + ": integer " + b + " does not fit 64 bits");
            return b.longValue();
        }
        throw new CheckpointException(origin + ": expected an integer, got " + describe(o));
    }

    private static Object key(Object k) {
        return k instanceof Tuple t ? t.items() : k;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o) {
        if (o instanceof Map<?, ?> m) return (Map<Object, Object>) m;
        if (o instanceof Call c) { // e.g. an OrderedDict subclass: keep items in the call's state
            if (!(c.state instanceof Map)) c.state = new LinkedHashMap<>();
            return (Map<Object, Object>) c.state;
        }
        throw new CheckpointException(origin + ": SETITEM on " + describe(o));
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) {
        if (o instanceof List<?> l) return (List<Object>) l;
        throw new CheckpointException(origin + ": APPEND on " + describe(o));
    }

    /**
     * What an unexpected object is, for an error message: scalars with their value (cut short), containers by kind and
     * size only (a pickle can make a list that holds itself, whose printing would never end).
     */
    private static String describe(Object o) {
        if (o == null) return "None";
        String kind = o.getClass().getSimpleName();
        if (o instanceof java.util.Collection<?> c) return kind + " of " + c.size() + " items";
        if (o instanceof Map<?, ?> m) return kind + " of " + m.size() + " entries";
        if (o instanceof Tuple t) return "tuple of " + t.items().size() + " items";
        if (o instanceof Call c) return "result of " + c.callee.qualified();
        String v = String.valueOf(o);
        return kind + " " + (v.length() > 80 ? v.substring(0, 80) + "…" : v);
    }

    private Object memoGet(long i) {
        if (!memo.containsKey(i)) throw new CheckpointException(origin + ": pickle refers to unknown memo slot " + i);
        return memo.get(i);
    }

    private Object pop() {
        if (stack.isEmpty()) throw new CheckpointException(origin + ": pickle stack underflow at byte " + pos);
        Object o = stack.removeLast();
        if (o == MARK) throw new CheckpointException(origin + ": unexpected MARK at byte " + pos);
        return o;
    }

    private Object peek() {
        if (stack.isEmpty()) throw new CheckpointException(origin + ": pickle stack underflow at byte " + pos);
        return stack.getLast();
    }

    private List<Object> popMark() {
        int m = stack.lastIndexOf(MARK);
        if (m < 0) throw new CheckpointException(origin + ": pickle MARK missing at byte " + pos);
        List<Object> items = new ArrayList<>(stack.subList(m + 1, stack.size()));
        stack.subList(m, stack.size()).clear();
        return items;
    }

    private long take(long n) {
        if (n < 0 || pos + n > data.byteSize()) throw new IndexOutOfBoundsException("pickle ends early");
        long p = pos;
        pos += n;
        return p;
    }

    private int u8() {
        return data.get(ValueLayout.JAVA_BYTE, take(1)) & 0xFF;
    }

    private int u16() {
        return data.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), take(2)) & 0xFFFF;
    }

    private int i32() {
        return data.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), take(4));
    }

    private long i64() {
        return data.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), take(8));
    }

    private long checkedLength(long n) {
        if (n < 0 || pos + n > data.byteSize()) {
            throw new CheckpointException(origin + ": pickle record of " + n + " bytes at byte " + pos + " runs past the end");
        }
        return n;
    }

    private byte[] bytes(long n) {
        return data.asSlice(take(n), n).toArray(ValueLayout.JAVA_BYTE);
    }

    private String utf8(long n) {
        return new String(bytes(n), StandardCharsets.UTF_8);
    }

    private String latin1(long n) {
        return new String(bytes(n), StandardCharsets.ISO_8859_1);
    }

    private Object longN(long n) {
        byte[] le = bytes(n);
        if (le.length == 0) return 0L;
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) be[i] = le[le.length - 1 - i];
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private String line() {
        long start = pos;
        while (data.get(ValueLayout.JAVA_BYTE, take(1)) != '\n') {
            if (pos - start > 1000) throw new CheckpointException(origin + ": pickle GLOBAL name too long at byte " + start);
        }
        return new String(data.asSlice(start, pos - 1 - start).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }
}
