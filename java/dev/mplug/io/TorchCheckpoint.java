package dev.mplug.io;

import dev.mplug.io.RestrictedUnpickler.PickleException;
import dev.mplug.io.TorchPickle.StorageRef;
import dev.mplug.io.TorchPickle.TensorRef;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.TorchException;
import dev.mplug.torch.TorchRuntime;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Reads files written by PyTorch's {@code torch.save} without Python.
 *
 * <p>Two containers: the zip format (PyTorch >= 1.6), a folder {@code <top>/} holding {@code data.pkl} (the pickled
 * object), {@code data/<key>} (one raw little-endian storage per key) and {@code version}; and the legacy format
 * (older files such as Hugging Face's bert-base-uncased {@code pytorch_model.bin}), pickles in a row (magic number,
 * protocol version, system info, the object, the storage keys) followed by each storage as an 8-byte element count
 * and its raw bytes. In both, tensors are {@code torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)}
 * calls over persistent storage ids, read by {@link RestrictedUnpickler} with the allow-list of {@link TorchPickle}:
 * reading a checkpoint never runs code.
 *
 * <p>Tensors come back on the CPU with their dtype, each with its own memory (keys sharing a storage, like a tied LM
 * head, get separate copies). Every tensor is checked against its storage before anything is allocated, nothing is
 * returned until every tensor has loaded, and on any error the tensors read so far are freed and a
 * {@link CheckpointException} names the file and key.
 */
public final class TorchCheckpoint {
  /** Keys under which training scripts nest the state dict: {'model': sd} (mPLUG), {'module': sd} (DeepSpeed), ... */
  private static final List<String> WRAPPER_KEYS = List.of("model", "module", "state_dict");

  private static final int CHUNK = 1 << 20;

  private TorchCheckpoint() {}

  /**
   * The whole pickled object: dicts as {@link LinkedHashMap}, lists, tuples (fixed-size lists), sets, numbers
   * ({@link Long}, {@link BigInteger}, {@link Double}), booleans, strings, null, and tensors ({@link Tensor}, CPU).
   * The caller owns the tensors.
   */
  public static Object read(Path file) throws IOException {
    try (Container c = Container.open(file)) {
      Object tree = c.unpickle();
      return materialize(c, tree, "");
    }
  }

  /**
   * The state dict in the file: the top-level dict of tensors, or the one under 'model', 'module' or 'state_dict'
   * (checked in that order, nested wrappers too; other entries of the wrapper, e.g. an optimizer state, are not
   * loaded). Every value must be a tensor.
   */
  public static StateDict readStateDict(Path file) throws IOException {
    try (Container c = Container.open(file)) {
      Object tree = c.unpickle();
      String path = "";
      Object node = tree;
      while (node instanceof Map<?, ?> map && wrapped(map) != null) {
        String key = wrapped(map);
        path = join(path, key);
        node = map.get(key);
      }
      if (!(node instanceof Map<?, ?> map)) {
        throw c.error(path.isEmpty() ? null : path,
            "holds " + RestrictedUnpickler.describe(node) + ", not a state dict (a dict of tensors)");
      }
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!(e.getKey() instanceof String key)) {
          throw c.error(path, "state dict key " + e.getKey() + " is not a string");
        }
        if (!(e.getValue() instanceof TensorRef)) {
          throw c.error(join(path, key), "is " + RestrictedUnpickler.describe(e.getValue()) + ", not a tensor "
              + "(a state dict holds only tensors" + (path.isEmpty() ? "; top-level keys: " + map.keySet() : "") + ")");
        }
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> loaded = (Map<String, Object>) materialize(c, map, path);
      Map<String, Tensor> tensors = new LinkedHashMap<>();
      loaded.forEach((k, v) -> tensors.put(k, (Tensor) v));
      return new StateDict(tensors, Map.of(), file.toString());
    }
  }

  /** The wrapper key this dict nests its state dict under, or null when it is not such a wrapper. */
  private static String wrapped(Map<?, ?> map) {
    for (String key : WRAPPER_KEYS) {
      if (map.get(key) instanceof Map<?, ?>) return key;
    }
    return null;
  }

  private static String join(String path, Object key) {
    return path.isEmpty() ? String.valueOf(key) : path + "/" + key;
  }

  // ---- placeholders -> tensors -------------------------------------------------------------------------------------

  /** Where a placeholder sits, so the loaded tensor can be put in its place. */
  private record Slot(Object container, Object index, String path, TensorRef ref) {}

  /**
   * Replaces every tensor placeholder under {@code root} by a loaded tensor: first checks that every view fits its
   * storage and every storage's bytes are in the file, then reads each storage once. Returns {@code root} (or the
   * tensor, when the root itself is one).
   */
  private static Object materialize(Container c, Object root, String rootPath) throws IOException {
    Object[] holder = {root};
    List<Slot> slots = collect(c, holder, rootPath);
    Map<StorageRef, List<Slot>> byStorage = new LinkedHashMap<>();
    for (Slot s : slots) byStorage.computeIfAbsent(s.ref().storage(), k -> new ArrayList<>()).add(s);
    for (var e : byStorage.entrySet()) check(c, e.getKey(), e.getValue());

    try (TensorScope scope = TensorScope.open()) {
      List<Tensor> loaded = new ArrayList<>(slots.size());
      List<Runnable> placements = new ArrayList<>(slots.size());
      for (var e : byStorage.entrySet()) {
        StorageRef storage = e.getKey();
        List<Slot> users = e.getValue();
        Tensor data = TorchException.wrap("allocating storage '" + storage.key() + "'",
            () -> torch.empty(new long[] {storage.numel()}, storage.dtype().options(), new MemoryFormatOptional()));
        long bytes = bytes(c, storage, users.get(0).path());
        if (bytes > 0) c.read(storage, new BytePointer(data.data_ptr()), bytes, users);
        for (Slot s : users) {
          Tensor t = view(data, s, users.size() == 1);
          loaded.add(t);
          placements.add(() -> place(s, t));
        }
      }
      for (Tensor t : loaded) scope.keep(t);
      placements.forEach(Runnable::run);
    }
    return holder[0];
  }

  /** Finds every placeholder, walking dicts, lists and tuples (cycles and shared containers visited once). */
  private static List<Slot> collect(Container c, Object[] holder, String rootPath) throws CheckpointException {
    List<Slot> slots = new ArrayList<>();
    Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    record Item(Object value, Object container, Object index, String path) {}
    Deque<Item> todo = new ArrayDeque<>();
    todo.push(new Item(holder[0], holder, 0, rootPath));
    while (!todo.isEmpty()) {
      Item it = todo.pop();
      switch (it.value()) {
        case TensorRef ref -> slots.add(new Slot(it.container(), it.index(), it.path(), ref));
        case Map<?, ?> map -> {
          if (!seen.add(map)) continue;
          List<Item> children = new ArrayList<>();
          for (var e : map.entrySet()) {
            if (e.getKey() instanceof TensorRef) throw c.error(it.path(), "uses a tensor as a dict key");
            children.add(new Item(e.getValue(), map, e.getKey(), join(it.path(), e.getKey())));
          }
          for (int i = children.size() - 1; i >= 0; i--) todo.push(children.get(i));
        }
        case List<?> list -> {
          if (!seen.add(list)) continue;
          for (int i = list.size() - 1; i >= 0; i--) todo.push(new Item(list.get(i), list, i, join(it.path(), i)));
        }
        case Set<?> set -> {
          for (Object o : set) {
            if (o instanceof TensorRef) throw c.error(it.path(), "holds a tensor inside a set");
          }
        }
        case null, default -> { }
      }
    }
    return slots;
  }

  /** Before reading any bytes: the views fit the storage and the container holds the storage's bytes. */
  private static void check(Container c, StorageRef storage, List<Slot> users) throws IOException {
    for (Slot s : users) {
      TensorRef r = s.ref();
      long last;
      try {
        last = r.lastIndex();
      } catch (ArithmeticException e) {
        throw c.error(s.path(), "size " + Arrays.toString(r.size()) + " overflows");
      }
      if (last >= storage.numel()) {
        throw c.error(s.path(), "view (offset " + r.offset() + ", size " + Arrays.toString(r.size()) + ", stride "
            + Arrays.toString(r.stride()) + ") reaches element " + last + " of storage '" + storage.key()
            + "', which has " + storage.numel() + " elements");
      }
    }
    c.check(storage, bytes(c, storage, users.get(0).path()), users);
  }

  private static long bytes(Container c, StorageRef storage, String key) throws CheckpointException {
    try {
      return Math.multiplyExact(storage.numel(), storage.dtype().itemSize());
    } catch (ArithmeticException e) {
      throw c.error(key, "storage '" + storage.key() + "' is impossibly large (" + storage.numel() + " elements)");
    }
  }

  /** The tensor a slot asks for: the storage itself when it is the sole user of all of it, else a copy. */
  private static Tensor view(Tensor data, Slot s, boolean soleUser) {
    TensorRef r = s.ref();
    return TorchException.wrap("building tensor " + s.path(), () -> {
      Tensor v = data.as_strided(r.size(), r.stride(), new LongOptional(r.offset()));
      if (soleUser && r.coversWholeStorageContiguously()) return v;
      return v.clone(new MemoryFormatOptional(torch.MemoryFormat.Contiguous));
    });
  }

  @SuppressWarnings("unchecked")
  private static void place(Slot s, Tensor t) {
    switch (s.container()) {
      case Object[] holder -> holder[0] = t;
      case Map<?, ?> map -> ((Map<Object, Object>) map).put(s.index(), t);
      case List<?> list -> ((List<Object>) list).set((Integer) s.index(), t);
      default -> throw new IllegalStateException("unexpected container " + s.container().getClass());
    }
  }

  private static String usersNote(List<Slot> users) {
    if (users.size() == 1) return "";
    return " (storage shared by " + users.stream().map(Slot::path).toList() + ")";
  }

  // ---- the two file layouts ----------------------------------------------------------------------------------------

  /** A torch.save file: where its pickle is and where each storage's bytes are. */
  private abstract static class Container implements AutoCloseable {
    final Path file;
    final TorchPickle pickle = new TorchPickle();

    Container(Path file) {
      this.file = file;
    }

    static Container open(Path file) throws IOException {
      TorchRuntime.load();
      if (!Files.exists(file)) throw new NoSuchFileException(file.toString(), null, "no such checkpoint file");
      if (Files.isDirectory(file)) throw CheckpointException.of(file, "is a directory, not a checkpoint file");
      long size = Files.size(file);
      if (size == 0) throw CheckpointException.of(file, "is empty (0 bytes)");
      byte[] head = new byte[4];
      int n;
      try (InputStream in = Files.newInputStream(file)) {
        n = in.readNBytes(head, 0, 4);
      }
      if (n == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return ZipContainer.open(file);
      if (n >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5) return LegacyContainer.open(file, size);
      throw CheckpointException.of(file, "is not a PyTorch checkpoint (neither a zip archive nor the legacy pickle "
          + "format: it starts with " + hex(head, n) + ")");
    }

    /** The pickled object, with tensor placeholders. */
    abstract Object unpickle() throws IOException;

    /** Fails unless the file holds {@code bytes} bytes for {@code storage}. */
    abstract void check(StorageRef storage, long bytes, List<Slot> users) throws IOException;

    /** Copies the storage's first {@code bytes} bytes to {@code dst}. */
    abstract void read(StorageRef storage, BytePointer dst, long bytes, List<Slot> users) throws IOException;

    CheckpointException error(String key, String problem) {
      return new CheckpointException(file, key, problem);
    }

    CheckpointException pickleError(String where, PickleException e) {
      return error(null, where + ": " + e.getMessage());
    }

    @Override
    public abstract void close() throws IOException;
  }

  /** PyTorch >= 1.6: a zip archive with {@code <top>/data.pkl} and one entry per storage. */
  private static final class ZipContainer extends Container {
    private final ZipFile zip;
    private final String top;

    private ZipContainer(Path file, ZipFile zip, String top) {
      super(file);
      this.zip = zip;
      this.top = top;
    }

    static ZipContainer open(Path file) throws IOException {
      ZipFile zip;
      try {
        zip = new ZipFile(file.toFile());
      } catch (ZipException e) {
        throw new CheckpointException(file, null,
            "not a readable zip archive (truncated or damaged?): " + e.getMessage(), e);
      }
      try {
        ZipContainer c = new ZipContainer(file, zip, findTop(file, zip));
        c.checkKind();
        return c;
      } catch (IOException | RuntimeException e) {
        zip.close();
        throw e;
      }
    }

    private static String findTop(Path file, ZipFile zip) throws IOException {
      List<String> candidates = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (var it = zip.entries(); it.hasMoreElements(); ) {
        String name = it.nextElement().getName();
        if (names.size() < 8) names.add(name);
        int slash = name.indexOf('/');
        if (slash > 0 && name.substring(slash + 1).equals("data.pkl")) candidates.add(name.substring(0, slash));
      }
      if (candidates.isEmpty()) {
        throw CheckpointException.of(file, "is a zip archive without <folder>/data.pkl, so not a torch.save "
            + "checkpoint (first entries: " + names + ")");
      }
      if (candidates.size() > 1) {
        throw CheckpointException.of(file, "holds several pickles " + candidates + "/data.pkl; expected one");
      }
      return candidates.get(0);
    }

    /** Refuses TorchScript archives and big-endian files (PyTorch >= 2.1 records the byte order). */
    private void checkKind() throws IOException {
      if (zip.getEntry(top + "/constants.pkl") != null || zip.getEntry(top + "/code/") != null) {
        throw CheckpointException.of(file, "is a TorchScript archive (torch.jit.save), not a torch.save checkpoint: "
            + "load it in Python and torch.save(model.state_dict()) to get the weights");
      }
      ZipEntry e = zip.getEntry(top + "/byteorder");
      if (e == null) return;
      String order;
      try (InputStream in = zip.getInputStream(e)) {
        order = new String(in.readNBytes(16), StandardCharsets.US_ASCII).strip();
      }
      if (!order.equals("little")) {
        throw CheckpointException.of(file, "stores its tensors in '" + order + "' byte order; only little-endian "
            + "files are supported");
      }
    }

    @Override
    Object unpickle() throws IOException {
      String name = top + "/data.pkl";
      ZipEntry entry = zip.getEntry(name);
      if (entry.getSize() > Integer.MAX_VALUE - 16) throw error(null, name + " is too large");
      byte[] bytes;
      try (InputStream in = zip.getInputStream(entry)) {
        bytes = in.readAllBytes();
      } catch (ZipException e) {
        throw error(null, name + " cannot be read (damaged archive?): " + e.getMessage());
      }
      try {
        return pickle.load(bytes, 0).value();
      } catch (PickleException e) {
        throw pickleError(name, e);
      }
    }

    @Override
    void check(StorageRef storage, long bytes, List<Slot> users) throws IOException {
      String name = top + "/data/" + storage.key();
      ZipEntry entry = zip.getEntry(name);
      String key = users.get(0).path();
      if (entry == null) throw error(key, "its storage entry " + name + " is missing from the archive");
      if (entry.getSize() >= 0 && entry.getSize() < bytes) {
        throw error(key, "storage entry " + name + " holds " + entry.getSize() + " bytes but " + storage.numel()
            + " " + storage.dtype().name().toLowerCase(Locale.ROOT) + " elements need " + bytes + usersNote(users));
      }
    }

    /** Streams the entry into native memory, verifying its CRC when it is read whole. */
    @Override
    void read(StorageRef storage, BytePointer dst, long bytes, List<Slot> users) throws IOException {
      String name = top + "/data/" + storage.key();
      String key = users.get(0).path();
      ZipEntry entry = zip.getEntry(name);
      CRC32 crc = new CRC32();
      byte[] buf = new byte[(int) Math.min(CHUNK, bytes)];
      long done = 0;
      try (InputStream in = zip.getInputStream(entry)) {
        while (done < bytes) {
          int n = in.read(buf, 0, (int) Math.min(buf.length, bytes - done));
          if (n < 0) break;
          crc.update(buf, 0, n);
          dst.position(done).put(buf, 0, n);
          done += n;
        }
      } catch (ZipException e) {
        throw error(key, "storage entry " + name + " cannot be read (damaged archive?): " + e.getMessage());
      }
      if (done < bytes) {
        throw error(key, "storage entry " + name + " ends after " + done + " of " + bytes + " bytes (truncated)"
            + usersNote(users));
      }
      if (entry.getSize() == bytes && entry.getCrc() >= 0 && crc.getValue() != entry.getCrc()) {
        throw error(key, "storage entry " + name + " is damaged (CRC mismatch)" + usersNote(users));
      }
    }

    @Override
    public void close() throws IOException {
      zip.close();
    }
  }

  /**
   * The format before PyTorch 1.6: pickles of the magic number, the protocol version (1001), a system-info dict and
   * the object, then a pickle of the storage keys, then per key (in that order) the element count as an 8-byte
   * little-endian integer followed by the raw bytes.
   */
  private static final class LegacyContainer extends Container {
    private static final BigInteger MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    private static final long PROTOCOL = 1001;
    /** The pickles come first and are small; read this much, more only if they do not fit. */
    private static final int FIRST_READ = 1 << 22;

    private final FileChannel channel;
    private final long size;
    private final Map<String, Long> dataOffsets = new HashMap<>();

    private LegacyContainer(Path file, FileChannel channel, long size) {
      super(file);
      this.channel = channel;
      this.size = size;
    }

    static LegacyContainer open(Path file, long size) throws IOException {
      return new LegacyContainer(file, FileChannel.open(file, StandardOpenOption.READ), size);
    }

    @Override
    Object unpickle() throws IOException {
      int want = (int) Math.min(size, FIRST_READ);
      while (true) {
        byte[] head = new byte[want];
        readFully(ByteBuffer.wrap(head), 0);
        try {
          return parse(head);
        } catch (RestrictedUnpickler.TruncatedException e) {
          if (want == size) throw pickleError("legacy pickle", e);
          if (want >= Integer.MAX_VALUE / 2) throw error(null, "its pickles exceed 1 GB");
          want = (int) Math.min(size, 2L * want);
        } catch (PickleException e) {
          throw pickleError("legacy pickle", e);
        }
      }
    }

    /** The header pickles and the object; records where each storage's bytes start. */
    private Object parse(byte[] head) throws IOException, PickleException {
      RestrictedUnpickler.Loaded magic = pickle.load(head, 0);
      if (!MAGIC.equals(asBig(magic.value()))) {
        throw error(null, "starts with a pickle but not with torch.save's magic number: not a PyTorch checkpoint");
      }
      RestrictedUnpickler.Loaded protocol = pickle.load(head, magic.end());
      if (!Long.valueOf(PROTOCOL).equals(protocol.value())) {
        throw error(null, "legacy protocol version " + protocol.value() + " is not supported (1001 is)");
      }
      RestrictedUnpickler.Loaded sysInfo = pickle.load(head, protocol.end());
      if (sysInfo.value() instanceof Map<?, ?> info && Boolean.FALSE.equals(info.get("little_endian"))) {
        throw error(null, "was written on a big-endian machine; only little-endian files are supported");
      }
      RestrictedUnpickler.Loaded object = pickle.load(head, sysInfo.end());
      RestrictedUnpickler.Loaded keys = pickle.load(head, object.end());
      if (!(keys.value() instanceof List<?> keyList)) throw error(null, "storage key list is missing");
      long pos = keys.end();
      for (Object k : keyList) {
        StorageRef s = k instanceof String key ? pickle.storages().get(key) : null;
        if (s == null) throw error(null, "lists storage " + k + ", which no tensor uses");
        if (pos + 8 > size) throw error(null, "ends before storage '" + s.key() + "' (truncated)");
        ByteBuffer count = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(count, pos);
        long numel = count.flip().getLong();
        if (numel != s.numel()) {
          throw error(null, "storage '" + s.key() + "' holds " + numel + " elements but the pickle says "
              + s.numel() + " (damaged file?)");
        }
        dataOffsets.put(s.key(), pos + 8);
        pos = Math.addExact(pos + 8, Math.multiplyExact(numel, s.dtype().itemSize()));
      }
      if (pos > size) {
        throw error(null, "is " + size + " bytes long but its storages need " + pos + " (truncated)");
      }
      return object.value();
    }

    private static BigInteger asBig(Object o) {
      return o instanceof Long l ? BigInteger.valueOf(l) : o instanceof BigInteger b ? b : null;
    }

    @Override
    void check(StorageRef storage, long bytes, List<Slot> users) throws IOException {
      if (!dataOffsets.containsKey(storage.key())) {
        throw error(users.get(0).path(), "its storage '" + storage.key() + "' is not in the file's storage list");
      }
    }

    @Override
    void read(StorageRef storage, BytePointer dst, long bytes, List<Slot> users) throws IOException {
      long at = dataOffsets.get(storage.key());
      for (long off = 0; off < bytes; off += 1 << 30) {
        long len = Math.min(1 << 30, bytes - off);
        readFully(dst.position(off).limit(off + len).asBuffer(), at + off);
      }
    }

    private void readFully(ByteBuffer buf, long position) throws IOException {
      long pos = position;
      while (buf.hasRemaining()) {
        int n = channel.read(buf, pos);
        if (n < 0) throw error(null, "ends at byte " + pos + " (truncated)");
        pos += n;
      }
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }

  private static String hex(byte[] b, int n) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) s.append(i == 0 ? "" : " ").append(String.format("%02x", b[i] & 0xff));
    return n == 0 ? "nothing" : s.toString();
  }
}
