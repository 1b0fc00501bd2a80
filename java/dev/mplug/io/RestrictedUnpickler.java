package dev.mplug.io;

import java.math.BigInteger;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pickle reader (protocols 2 to 4, binary opcodes) that cannot run code.
 *
 * <p>Python's pickle turns a GLOBAL opcode into an import and a REDUCE into a call, which is how a checkpoint can run
 * {@code os.system}. Here every global goes through {@link Globals}, which answers with a Java stand-in or refuses
 * the name before anything else happens; there is no other way to reach a callable. Values become plain Java:
 * dict -> {@link LinkedHashMap}, list -> {@link ArrayList}, tuple -> fixed-size {@link List}, int -> {@link Long}
 * (or {@link BigInteger}), float -> {@link Double}, str -> {@link String}, bytes -> {@code byte[]}, None -> null.
 */
final class RestrictedUnpickler {

  /** Malformed or refused pickle data. The message says what and where (byte offset). */
  static class PickleException extends Exception {
    PickleException(String message) {
      super(message);
    }
  }

  /** The data ended before the pickle did: a reader holding only part of a file may retry with more. */
  static final class TruncatedException extends PickleException {
    TruncatedException(String message) {
      super(message);
    }
  }

  /** A loaded object and the offset just past its STOP opcode (a legacy torch file holds several pickles in a row). */
  record Loaded(Object value, int end) {}

  /** A callable the pickle may REDUCE: the Java stand-in of an allowed global. */
  @FunctionalInterface
  interface Callable {
    Object call(List<Object> args) throws PickleException;
  }

  /** Resolves {@code module.name}: returns a stand-in (usually a {@link Callable}) or throws to refuse it. */
  @FunctionalInterface
  interface Globals {
    Object resolve(String module, String name) throws PickleException;
  }

  /** Turns a persistent id (torch: a storage reference) into an object. */
  @FunctionalInterface
  interface PersistentLoader {
    Object load(Object pid) throws PickleException;
  }

  private static final Object MARK = new Object() {
    @Override
    public String toString() {
      return "MARK";
    }
  };

  private final ByteBuffer in;
  private final Globals globals;
  private final PersistentLoader persistent;
  private final List<Object> stack = new ArrayList<>();
  private final List<Integer> marks = new ArrayList<>();
  private final Map<Long, Object> memo = new HashMap<>();

  private RestrictedUnpickler(byte[] data, int offset, Globals globals, PersistentLoader persistent) {
    this.in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    this.in.position(offset);
    this.globals = globals;
    this.persistent = persistent;
  }

  /** Reads one pickled object (up to STOP). */
  static Object load(byte[] data, Globals globals, PersistentLoader persistent) throws PickleException {
    return load(data, 0, globals, persistent).value();
  }

  /** Reads one pickled object starting at {@code offset}. */
  static Loaded load(byte[] data, int offset, Globals globals, PersistentLoader persistent) throws PickleException {
    RestrictedUnpickler u = new RestrictedUnpickler(data, offset, globals, persistent);
    try {
      Object value = u.run();
      return new Loaded(value, u.in.position());
    } catch (BufferUnderflowException e) {
      throw u.truncated("data ends inside an opcode (truncated pickle)");
    }
  }

  /** A tuple: fixed size, so the tensor reader can put loaded tensors in place of placeholders. */
  static List<Object> tuple(Object... items) {
    return Arrays.asList(items);
  }

  private Object run() throws PickleException {
    while (true) {
      if (!in.hasRemaining()) throw truncated("data ends before the STOP opcode (truncated pickle)");
      int at = in.position();
      int op = in.get() & 0xff;
      switch (op) {
        case 0x80 -> { // PROTO
          int proto = u8();
          if (proto > 4) throw error("pickle protocol " + proto + " is not supported (2 to 4 are)");
        }
        case 0x95 -> skip(8); // FRAME: only a length hint
        case '.' -> { // STOP
          Object result = pop();
          if (!stack.isEmpty() || !marks.isEmpty()) throw error("objects left on the stack at STOP");
          return result;
        }
        case '(' -> marks.add(stack.size()); // MARK
        case '0' -> pop(); // POP
        case '1' -> popMark(); // POP_MARK
        case '2' -> push(peek()); // DUP
        case 'N' -> push(null);
        case 0x88 -> push(Boolean.TRUE);
        case 0x89 -> push(Boolean.FALSE);
        case 'J' -> push((long) in.getInt()); // BININT
        case 'K' -> push((long) u8()); // BININT1
        case 'M' -> push((long) (in.getShort() & 0xffff)); // BININT2
        case 0x8a -> push(longFromBytes(u8())); // LONG1
        case 0x8b -> push(longFromBytes(length(in.getInt()))); // LONG4
        case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong()))); // BINFLOAT (big-endian)
        case 'X' -> push(utf8(length(in.getInt()))); // BINUNICODE
        case 0x8c -> push(utf8(u8())); // SHORT_BINUNICODE
        case 0x8d -> push(utf8(length(in.getLong()))); // BINUNICODE8
        case 'T' -> push(latin1(length(in.getInt()))); // BINSTRING (protocol 2 str)
        case 'U' -> push(latin1(u8())); // SHORT_BINSTRING
        case 'B' -> push(bytes(length(in.getInt()))); // BINBYTES
        case 'C' -> push(bytes(u8())); // SHORT_BINBYTES
        case 0x8e -> push(bytes(length(in.getLong()))); // BINBYTES8
        case ')' -> push(tuple()); // EMPTY_TUPLE
        case 0x85 -> push(tuple(pop())); // TUPLE1
        case 0x86 -> { // TUPLE2
          Object b = pop(), a = pop();
          push(tuple(a, b));
        }
        case 0x87 -> { // TUPLE3
          Object c = pop(), b = pop(), a = pop();
          push(tuple(a, b, c));
        }
        case 't' -> push(tuple(popMark().toArray())); // TUPLE
        case ']' -> push(new ArrayList<>()); // EMPTY_LIST
        case 'l' -> push(new ArrayList<>(popMark())); // LIST
        case 'a' -> { // APPEND
          Object item = pop();
          listAt(peek()).add(item);
        }
        case 'e' -> { // APPENDS
          List<Object> items = popMark();
          listAt(peek()).addAll(items);
        }
        case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
        case 'd' -> { // DICT
          List<Object> items = popMark();
          Map<Object, Object> map = new LinkedHashMap<>();
          putPairs(map, items);
          push(map);
        }
        case 's' -> { // SETITEM
          Object value = pop(), key = pop();
          mapAt(peek()).put(key, value);
        }
        case 'u' -> { // SETITEMS
          List<Object> items = popMark();
          putPairs(mapAt(peek()), items);
        }
        case 0x8f -> push(new LinkedHashSet<>()); // EMPTY_SET
        case 0x90 -> { // ADDITEMS
          List<Object> items = popMark();
          setAt(peek()).addAll(items);
        }
        case 0x91 -> push(Collections.unmodifiableSet(new LinkedHashSet<>(popMark()))); // FROZENSET
        case 'q' -> memo.put((long) u8(), peek()); // BINPUT
        case 'r' -> memo.put(in.getInt() & 0xffffffffL, peek()); // LONG_BINPUT
        case 0x94 -> memo.put((long) memo.size(), peek()); // MEMOIZE
        case 'h' -> push(memoGet(u8())); // BINGET
        case 'j' -> push(memoGet(in.getInt() & 0xffffffffL)); // LONG_BINGET
        case 'c' -> { // GLOBAL "module\nname\n": resolved (or refused) before anything uses it
          String module = line(), name = line();
          push(globals.resolve(module, name));
        }
        case 0x93 -> { // STACK_GLOBAL
          Object name = pop(), module = pop();
          if (!(module instanceof String m) || !(name instanceof String n)) {
            throw error("STACK_GLOBAL needs two strings, got " + describe(module) + " and " + describe(name));
          }
          push(globals.resolve(m, n));
        }
        case 'R' -> { // REDUCE: callable(*args)
          Object args = pop(), callable = pop();
          push(call(callable, args));
        }
        case 0x81 -> { // NEWOBJ: cls.__new__(cls, *args); allowed classes build from their args
          Object args = pop(), cls = pop();
          push(call(cls, args));
        }
        case 'b' -> { // BUILD: sets state on the object below
          Object state = pop();
          build(peek(), state);
        }
        case 'Q' -> { // BINPERSID
          Object pid = pop();
          push(persistent.load(pid));
        }
        default -> {
          in.position(at);
          throw error(String.format("unsupported pickle opcode 0x%02x ('%s')", op, printable(op)));
        }
      }
    }
  }

  private Object call(Object callable, Object args) throws PickleException {
    if (!(callable instanceof Callable c)) throw error("REDUCE on " + describe(callable) + ", which is not callable");
    if (!(args instanceof List<?> list)) throw error("REDUCE arguments must be a tuple, got " + describe(args));
    @SuppressWarnings("unchecked")
    List<Object> a = (List<Object>) list;
    return c.call(a);
  }

  /**
   * BUILD on a dict: an OrderedDict state dict receives its {@code _metadata} attribute (module versions) this way; the
   * attribute carries no weights, so it is dropped. BUILD on anything else would need Python's object model: refused.
   */
  private void build(Object target, Object state) throws PickleException {
    if (target instanceof Map<?, ?>) return;
    throw error("BUILD on " + describe(target) + " is not supported");
  }

  private void putPairs(Map<Object, Object> map, List<Object> items) throws PickleException {
    if (items.size() % 2 != 0) throw error("odd number of items for a dict");
    for (int i = 0; i < items.size(); i += 2) map.put(items.get(i), items.get(i + 1));
  }

  @SuppressWarnings("unchecked")
  private List<Object> listAt(Object o) throws PickleException {
    if (o instanceof ArrayList<?> l) return (List<Object>) l;
    throw error("APPEND to " + describe(o) + ", which is not a list");
  }

  @SuppressWarnings("unchecked")
  private Map<Object, Object> mapAt(Object o) throws PickleException {
    if (o instanceof Map<?, ?> m) return (Map<Object, Object>) m;
    throw error("SETITEM on " + describe(o) + ", which is not a dict");
  }

  @SuppressWarnings("unchecked")
  private Set<Object> setAt(Object o) throws PickleException {
    if (o instanceof LinkedHashSet<?> s) return (Set<Object>) s;
    throw error("ADDITEMS on " + describe(o) + ", which is not a set");
  }

  private Object memoGet(long index) throws PickleException {
    if (!memo.containsKey(index)) throw error("memo entry " + index + " read before it was written");
    return memo.get(index);
  }

  private void push(Object o) {
    stack.add(o);
  }

  private Object pop() throws PickleException {
    int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
    if (stack.size() <= floor) throw error("stack underflow");
    return stack.remove(stack.size() - 1);
  }

  private Object peek() throws PickleException {
    int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
    if (stack.size() <= floor) throw error("stack underflow");
    return stack.get(stack.size() - 1);
  }

  private List<Object> popMark() throws PickleException {
    if (marks.isEmpty()) throw error("no MARK on the stack");
    int from = marks.remove(marks.size() - 1);
    List<Object> items = new ArrayList<>(stack.subList(from, stack.size()));
    stack.subList(from, stack.size()).clear();
    return items;
  }

  private int u8() throws PickleException {
    need(1);
    return in.get() & 0xff;
  }

  private int length(long n) throws PickleException {
    if (n < 0 || n > Integer.MAX_VALUE) throw error("impossible length " + n);
    if (n > in.remaining()) throw truncated("length " + n + " runs past the end of the data (truncated pickle)");
    return (int) n;
  }

  private void skip(int n) throws PickleException {
    need(n);
    in.position(in.position() + n);
  }

  private void need(int n) throws PickleException {
    if (in.remaining() < n) throw truncated("data ends inside an opcode (truncated pickle)");
  }

  private byte[] bytes(int n) throws PickleException {
    need(n);
    byte[] b = new byte[n];
    in.get(b);
    return b;
  }

  private String utf8(int n) throws PickleException {
    return new String(bytes(n), StandardCharsets.UTF_8);
  }

  private String latin1(int n) throws PickleException {
    return new String(bytes(n), StandardCharsets.ISO_8859_1);
  }

  /** A text line (GLOBAL's operands), without the newline. */
  private String line() throws PickleException {
    int start = in.position();
    for (int i = start; i < in.limit(); i++) {
      if (in.get(i) == '\n') {
        String s = new String(in.array(), start, i - start, StandardCharsets.UTF_8);
        in.position(i + 1);
        return s;
      }
    }
    throw truncated("unterminated GLOBAL operand (truncated pickle)");
  }

  /** Python's little-endian two's-complement long. */
  private Object longFromBytes(int n) throws PickleException {
    byte[] le = bytes(n);
    if (n == 0) return 0L;
    byte[] be = new byte[n];
    for (int i = 0; i < n; i++) be[i] = le[n - 1 - i];
    BigInteger v = new BigInteger(be);
    return v.bitLength() < 64 ? (Object) v.longValue() : v;
  }

  private PickleException error(String message) {
    return new PickleException("pickle byte " + in.position() + ": " + message);
  }

  private TruncatedException truncated(String message) {
    return new TruncatedException("pickle byte " + in.position() + ": " + message);
  }

  private static String printable(int op) {
    return op >= 32 && op < 127 ? String.valueOf((char) op) : "\\x" + Integer.toHexString(op);
  }

  static String describe(Object o) {
    if (o == null) return "None";
    if (o instanceof String s) return "str '" + s + "'";
    return o.getClass().getSimpleName();
  }
}
