package dev.mplug.io;

import dev.mplug.io.RestrictedUnpickler.PickleException;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.TorchException;
import dev.mplug.torch.TorchRuntime;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
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
 * Reads files written by PyTorch's {@code torch.save} (the zip format, PyTorch >= 1.6) without Python.
 *
 * <p>The archive holds one folder {@code <top>/} with {@code data.pkl} (the pickled object), {@code data/<key>} (one raw
 * little-endian storage per key) and {@code version}. Tensors appear in the pickle as calls of
 * {@code torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)} whose storage is a persistent id
 * {@code ('storage', torch.<Type>Storage, key, location, numel)}. The pickle is read by {@link RestrictedUnpickler},
 * which accepts only the globals a state dict needs, so reading a checkpoint never runs code.
 *
 * <p>Tensors come back on the CPU with their dtype, each with its own memory (keys sharing a storage, like a tied LM
 * head, get separate copies). Nothing is returned until every tensor has loaded; on any error the tensors read so far
 * are freed and a {@link CheckpointException} names the file and key.
 */
public final class TorchCheckpoint {
  /** Keys under which training scripts nest the state dict: {'model': sd} (mPLUG), {'module': sd} (DeepSpeed), ... */
  private static final List<String> WRAPPER_KEYS = List.of("model", "module", "state_dict");

  private static final int CHUNK = 1 << 20;

  private TorchCheckpoint() {}

  /**
   * The whole pickled object: dicts as {@link LinkedHashMap}, lists, tuples (fixed-size lists), numbers, strings and
   * tensors ({@link Tensor}, CPU). The caller owns the tensors.
   */
  public static Object read(Path file) throws IOException {
    try (Archive archive = Archive.open(file)) {
      Object tree = archive.unpickle();
      return archive.materialize(tree, "");
    }
  }

  /**
   * The state dict in the file: the top-level dict of tensors, or the one under 'model', 'module' or 'state_dict'
   * (checked in that order; other entries of the wrapper, e.g. an optimizer state, are not loaded).
   */
  public static StateDict readStateDict(Path file) throws IOException {
    try (Archive archive = Archive.open(file)) {
      Object tree = archive.unpickle();
      String path = "";
      Object node = tree;
      while (node instanceof Map<?, ?> map && wrapped(map) != null) {
        String key = wrapped(map);
        path = join(path, key);
        node = map.get(key);
      }
      if (!(node instanceof Map<?, ?> map)) {
        throw archive.error(path.isEmpty() ? null : path,
            "holds " + RestrictedUnpickler.describe(node) + ", not a state dict (a dict of tensors)");
      }
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!(e.getKey() instanceof String key)) {
          throw archive.error(path, "state dict key " + e.getKey() + " is not a string");
        }
        if (!(e.getValue() instanceof TensorRef)) {
          throw archive.error(join(path, key), "is " + RestrictedUnpickler.describe(e.getValue()) + ", not a tensor "
              + "(a state dict holds only tensors" + (path.isEmpty() ? "; top-level keys: " + map.keySet() : "") + ")");
        }
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> loaded = (Map<String, Object>) archive.materialize(map, path);
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

  /** A storage named by the pickle: {@code numel} elements of {@code dtype} in entry {@code data/<key>}. */
  private record StorageRef(DType dtype, String key, long numel) {}

  /** A tensor before its bytes are read: a strided view of a storage. */
  private record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
    long numel() {
      long n = 1;
      for (long s : size) n = Math.multiplyExact(n, s);
      return n;
    }

    /** The largest element index the view touches, or -1 for an empty view. */
    long lastIndex() {
      if (numel() == 0) return -1;
      long last = offset;
      for (int i = 0; i < size.length; i++) last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));
      return last;
    }

    boolean coversWholeStorageContiguously() {
      if (offset != 0 || numel() != storage.numel()) return false;
      long expected = 1;
      for (int i = size.length - 1; i >= 0; i--) {
        if (size[i] != 1 && stride[i] != expected) return false;
        expected *= size[i];
      }
      return true;
    }
  }

  /** The stand-in for a {@code torch.<Type>Storage} global: only ever used inside a persistent id. */
  private record StorageType(DType dtype) {}

  /** Where a placeholder sits, so the loaded tensor can be put in its place. */
  private record Slot(Object container, Object index, String path, TensorRef ref) {}

  /** One open checkpoint archive. */
  private static final class Archive implements AutoCloseable {
    private final Path file;
    private final ZipFile zip;
    private final String top;
    private final Map<String, StorageRef> storages = new LinkedHashMap<>();

    private Archive(Path file, ZipFile zip, String top) {
      this.file = file;
      this.zip = zip;
      this.top = top;
    }

    static Archive open(Path file) throws IOException {
      TorchRuntime.load();
      checkHeader(file);
      ZipFile zip;
      try {
        zip = new ZipFile(file.toFile());
      } catch (ZipException e) {
        throw new CheckpointException(file, null,
            "not a readable zip archive (truncated or damaged?): " + e.getMessage(), e);
      }
      try {
        String top = findTop(file, zip);
        Archive archive = new Archive(file, zip, top);
        archive.checkByteOrder();
        return archive;
      } catch (IOException | RuntimeException e) {
        zip.close();
        throw e;
      }
    }

    /** Clear messages for the files that are not torch zip archives at all. */
    private static void checkHeader(Path file) throws IOException {
      if (!Files.exists(file)) throw new NoSuchFileException(file.toString(), null, "no such checkpoint file");
      if (Files.isDirectory(file)) throw CheckpointException.of(file, "is a directory, not a checkpoint file");
      long size = Files.size(file);
      if (size == 0) throw CheckpointException.of(file, "is empty (0 bytes)");
      byte[] head = new byte[4];
      int n;
      try (InputStream in = Files.newInputStream(file)) {
        n = in.readNBytes(head, 0, 4);
      }
      if (n >= 2 && (head[0] & 0xff) == 0x80 && head[1] <= 5) {
        throw CheckpointException.of(file, "is a legacy (pre-1.6, non-zip) torch.save file or a bare pickle; only the "
            + "zip format is supported: re-save it with torch.save in PyTorch >= 1.6");
      }
      if (n < 4 || head[0] != 'P' || head[1] != 'K' || head[2] != 3 || head[3] != 4) {
        throw CheckpointException.of(file, "is not a PyTorch checkpoint (not a zip archive: it starts with "
            + hex(head, n) + ", a zip starts with 50 4b 03 04)");
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
        throw CheckpointException.of(file, "is a zip archive without <folder>/data.pkl, so not a torch.save checkpoint "
            + "(first entries: " + names + ")");
      }
      if (candidates.size() > 1) {
        throw CheckpointException.of(file, "holds several pickles " + candidates + "/data.pkl; expected one");
      }
      return candidates.get(0);
    }

    /** PyTorch >= 2.1 records the byte order of the storages; older files are little-endian. */
    private void checkByteOrder() throws IOException {
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

    Object unpickle() throws IOException {
      ZipEntry entry = zip.getEntry(top + "/data.pkl");
      if (entry.getSize() > Integer.MAX_VALUE - 16) throw error(null, top + "/data.pkl is too large");
      byte[] pickle;
      try (InputStream in = zip.getInputStream(entry)) {
        pickle = in.readAllBytes();
      } catch (ZipException e) {
        throw error(null, top + "/data.pkl cannot be read (damaged archive?): " + e.getMessage());
      }
      try {
        return RestrictedUnpickler.load(pickle, this::resolve, this::persistentLoad);
      } catch (PickleException e) {
        throw error(null, top + "/data.pkl: " + e.getMessage());
      }
    }

    /**
     * The allow-list: what a state dict needs, plus set (plain data that DeepSpeed wrappers hold). Any other name
     * (os.system, builtins.eval, subprocess.*, a model class, argparse.Namespace, ...) is refused here, before the
     * pickle can use it.
     */
    private Object resolve(String module, String name) throws PickleException {
      String global = module + "." + name;
      switch (global) {
        case "collections.OrderedDict" -> {
          return (RestrictedUnpickler.Callable) args -> {
            if (!args.isEmpty()) throw new PickleException("OrderedDict called with arguments " + args.size());
            return new LinkedHashMap<>();
          };
        }
        case "torch._utils._rebuild_tensor_v2" -> {
          return (RestrictedUnpickler.Callable) this::rebuildTensor;
        }
        case "torch._utils._rebuild_parameter" -> {
          // (data, requires_grad, backward_hooks): a Parameter is its data here
          return (RestrictedUnpickler.Callable) args -> {
            if (args.size() != 3 || !(args.get(0) instanceof TensorRef t)) {
              throw new PickleException("_rebuild_parameter expects (tensor, requires_grad, hooks), got " + args);
            }
            return t;
          };
        }
        case "builtins.set", "__builtin__.set", "builtins.frozenset", "__builtin__.frozenset" -> {
          // plain data (DeepSpeed wrappers hold an empty set); protocol 2 writes a set as set(list)
          return (RestrictedUnpickler.Callable) args -> {
            if (args.isEmpty()) return new java.util.LinkedHashSet<>();
            if (args.size() == 1 && args.get(0) instanceof List<?> items) return new java.util.LinkedHashSet<>(items);
            throw new PickleException(global + " expects one list argument, got " + args);
          };
        }
        default -> {
          if (module.equals("torch") && name.endsWith("Storage")) {
            String type = name;
            return DType.fromStorageClass(type).map(StorageType::new).orElseThrow(() -> new PickleException(
                "unsupported storage type torch." + type + " (supported dtypes: " + DType.names() + ")"));
          }
          throw new PickleException("refused global '" + global + "': a checkpoint may only name "
              + "collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter, "
              + "torch.<Type>Storage and set (refused so that loading can never run code; save only the state dict "
              + "to load such a file)");
        }
      }
    }

    /** ('storage', torch.<Type>Storage, key, location, numel) -> the storage it names. */
    private Object persistentLoad(Object pid) throws PickleException {
      if (!(pid instanceof List<?> t) || t.size() != 5 || !"storage".equals(t.get(0))) {
        throw new PickleException("persistent id " + pid + " is not ('storage', type, key, location, numel)");
      }
      if (!(t.get(1) instanceof StorageType type)) {
        throw new PickleException("persistent id names " + RestrictedUnpickler.describe(t.get(1))
            + " where a torch.<Type>Storage belongs");
      }
      if (!(t.get(2) instanceof String key) || !(t.get(4) instanceof Long numel) || numel < 0) {
        throw new PickleException("persistent id " + t + " has no valid key or element count");
      }
      StorageRef ref = new StorageRef(type.dtype(), key, numel);
      StorageRef seen = storages.putIfAbsent(key, ref);
      if (seen != null && !seen.equals(ref)) {
        throw new PickleException("storage '" + key + "' is described twice differently: " + seen + " and " + ref);
      }
      return seen != null ? seen : ref;
    }

    /** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]). */
    private Object rebuildTensor(List<Object> args) throws PickleException {
      if (args.size() < 6 || args.size() > 7) {
        throw new PickleException("_rebuild_tensor_v2 expects 6 or 7 arguments, got " + args.size());
      }
      if (!(args.get(0) instanceof StorageRef storage)) {
        throw new PickleException("_rebuild_tensor_v2 on " + RestrictedUnpickler.describe(args.get(0))
            + " instead of a storage");
      }
      if (!(args.get(1) instanceof Long offset) || offset < 0) {
        throw new PickleException("_rebuild_tensor_v2: bad storage offset " + args.get(1));
      }
      long[] size = longs(args.get(2), "size");
      long[] stride = longs(args.get(3), "stride");
      if (size.length != stride.length) {
        throw new PickleException("_rebuild_tensor_v2: size " + Arrays.toString(size) + " and stride "
            + Arrays.toString(stride) + " differ in length");
      }
      if (args.get(5) instanceof Map<?, ?> hooks && !hooks.isEmpty()) {
        throw new PickleException("tensor carries backward hooks, which cannot be loaded");
      }
      return new TensorRef(storage, offset, size, stride);
    }

    private static long[] longs(Object o, String what) throws PickleException {
      if (!(o instanceof List<?> list)) throw new PickleException("_rebuild_tensor_v2: " + what + " is not a tuple");
      long[] out = new long[list.size()];
      for (int i = 0; i < out.length; i++) {
        if (!(list.get(i) instanceof Long v) || v < 0) {
          throw new PickleException("_rebuild_tensor_v2: " + what + " " + list + " is not a tuple of ints >= 0");
        }
        out[i] = v;
      }
      return out;
    }

    /**
     * Replaces every tensor placeholder under {@code root} by a loaded tensor: first checks that every view fits its
     * storage and every storage entry holds enough bytes, then reads each storage once. Returns {@code root} (or the
     * tensor, when the root itself is one).
     */
    Object materialize(Object root, String rootPath) throws IOException {
      Object[] holder = {root};
      List<Slot> slots = collect(holder, rootPath);
      Map<StorageRef, List<Slot>> byStorage = new LinkedHashMap<>();
      for (Slot s : slots) byStorage.computeIfAbsent(s.ref().storage(), k -> new ArrayList<>()).add(s);
      for (var e : byStorage.entrySet()) check(e.getKey(), e.getValue());

      try (TensorScope scope = TensorScope.open()) {
        List<Tensor> loaded = new ArrayList<>(slots.size());
        List<Runnable> placements = new ArrayList<>(slots.size());
        for (var e : byStorage.entrySet()) {
          StorageRef storage = e.getKey();
          List<Slot> users = e.getValue();
          Tensor data = readStorage(storage, users);
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
    private List<Slot> collect(Object[] holder, String rootPath) throws CheckpointException {
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
              if (e.getKey() instanceof TensorRef) throw error(it.path(), "uses a tensor as a dict key");
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
              if (o instanceof TensorRef) throw error(it.path(), "holds a tensor inside a set");
            }
          }
          case null, default -> { }
        }
      }
      return slots;
    }

    /** Checks, before reading any bytes, that the views fit the storage and the entry holds the storage. */
    private void check(StorageRef storage, List<Slot> users) throws IOException {
      for (Slot s : users) {
        TensorRef r = s.ref();
        long last;
        try {
          last = r.lastIndex();
        } catch (ArithmeticException e) {
          throw error(s.path(), "size " + Arrays.toString(r.size()) + " overflows");
        }
        if (last >= storage.numel()) {
          throw error(s.path(), "view (offset " + r.offset() + ", size " + Arrays.toString(r.size()) + ", stride "
              + Arrays.toString(r.stride()) + ") reaches element " + last + " of storage '" + storage.key()
              + "', which has " + storage.numel() + " elements");
        }
      }
      String name = top + "/data/" + storage.key();
      ZipEntry entry = zip.getEntry(name);
      String key = users.get(0).path();
      if (entry == null) throw error(key, "its storage entry " + name + " is missing from the archive");
      long needed = bytes(storage, key);
      if (entry.getSize() >= 0 && entry.getSize() < needed) {
        throw error(key, "storage entry " + name + " holds " + entry.getSize() + " bytes but " + storage.numel()
            + " " + storage.dtype().name().toLowerCase(java.util.Locale.ROOT) + " elements need " + needed
            + usersNote(users));
      }
    }

    private long bytes(StorageRef storage, String key) throws CheckpointException {
      try {
        return Math.multiplyExact(storage.numel(), storage.dtype().itemSize());
      } catch (ArithmeticException e) {
        throw error(key, "storage '" + storage.key() + "' is impossibly large (" + storage.numel() + " elements)");
      }
    }

    private static String usersNote(List<Slot> users) {
      if (users.size() == 1) return "";
      List<String> keys = users.stream().map(Slot::path).toList();
      return " (storage shared by " + keys + ")";
    }

    /** Reads one storage entry into a new 1-d tensor, verifying the entry's CRC when it is read whole. */
    private Tensor readStorage(StorageRef storage, List<Slot> users) throws IOException {
      String name = top + "/data/" + storage.key();
      String key = users.get(0).path();
      ZipEntry entry = zip.getEntry(name);
      long needed = bytes(storage, key);
      Tensor data = TorchException.wrap("allocating storage " + name,
          () -> torch.empty(new long[] {storage.numel()}, storage.dtype().options(), new MemoryFormatOptional()));
      if (needed == 0) return data;
      BytePointer dst = new BytePointer(data.data_ptr());
      CRC32 crc = new CRC32();
      byte[] buf = new byte[(int) Math.min(CHUNK, needed)];
      long done = 0;
      try (InputStream in = zip.getInputStream(entry)) {
        while (done < needed) {
          int n = in.read(buf, 0, (int) Math.min(buf.length, needed - done));
          if (n < 0) break;
          crc.update(buf, 0, n);
          dst.position(done).put(buf, 0, n);
          done += n;
        }
      } catch (ZipException e) {
        throw error(key, "storage entry " + name + " cannot be read (damaged archive?): " + e.getMessage());
      }
      if (done < needed) {
        throw error(key, "storage entry " + name + " ends after " + done + " of " + needed + " bytes (truncated)"
            + usersNote(users));
      }
      if (entry.getSize() == needed && entry.getCrc() >= 0 && crc.getValue() != entry.getCrc()) {
        throw error(key, "storage entry " + name + " is damaged (CRC mismatch)" + usersNote(users));
      }
      return data;
    }

    /** The tensor a slot asks for: the storage itself when it is the sole user of all of it, else a copy. */
    private Tensor view(Tensor data, Slot s, boolean soleUser) {
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

    CheckpointException error(String key, String problem) {
      return new CheckpointException(file, key, problem);
    }

    @Override
    public void close() throws IOException {
      zip.close();
    }

    private static String hex(byte[] b, int n) {
      StringBuilder s = new StringBuilder();
      for (int i = 0; i < n; i++) s.append(i == 0 ? "" : " ").append(String.format("%02x", b[i] & 0xff));
      return n == 0 ? "nothing" : s.toString();
    }
  }
}
