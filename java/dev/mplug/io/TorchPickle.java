package dev.mplug.io;

import dev.mplug.io.RestrictedUnpickler.Callable;
import dev.mplug.io.RestrictedUnpickler.PickleException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * What torch.save's pickles mean: the allow-list of globals, storages as persistent ids, and tensors as
 * {@code _rebuild_tensor_v2} calls. Unpickling yields placeholders ({@link TensorRef}); no byte of tensor data is read
 * here, so the reader can check every tensor against its storage before allocating anything.
 */
final class TorchPickle {
  /** A storage named by the pickle: {@code numel} elements of {@code dtype}, stored under {@code key}. */
  record StorageRef(DType dtype, String key, long numel) {}

  /** A tensor before its bytes are read: a strided view of a storage (offset, size and stride in elements). */
  record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
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

  /** A legacy-format storage view: elements [offset, offset + numel) of a root storage. */
  private record StorageView(StorageRef root, long offset, long numel) {}

  private final Map<String, StorageRef> storages = new LinkedHashMap<>();

  /** Every storage the pickles named so far, by key, in order of first use. */
  Map<String, StorageRef> storages() {
    return storages;
  }

  RestrictedUnpickler.Loaded load(byte[] data, int offset) throws PickleException {
    return RestrictedUnpickler.load(data, offset, TorchPickle::resolve, this::persistentLoad);
  }

  /**
   * The allow-list: what a state dict needs, plus set (plain data that DeepSpeed wrappers hold). Any other name
   * (os.system, builtins.eval, subprocess.*, a model class, argparse.Namespace, ...) is refused here, before the
   * pickle can use it.
   */
  static Object resolve(String module, String name) throws PickleException {
    String global = module + "." + name;
    switch (global) {
      case "collections.OrderedDict" -> {
        return (Callable) args -> {
          if (!args.isEmpty()) throw new PickleException("OrderedDict called with " + args.size() + " arguments");
          return new LinkedHashMap<>();
        };
      }
      case "torch._utils._rebuild_tensor_v2" -> {
        return (Callable) TorchPickle::rebuildTensor;
      }
      case "torch._utils._rebuild_parameter" -> {
        // (data, requires_grad, backward_hooks): a Parameter is its data here
        return (Callable) args -> {
          if (args.size() != 3 || !(args.get(0) instanceof TensorRef t)) {
            throw new PickleException("_rebuild_parameter expects (tensor, requires_grad, hooks), got " + args);
          }
          return t;
        };
      }
      case "builtins.set", "__builtin__.set", "builtins.frozenset", "__builtin__.frozenset" -> {
        // protocol 2 writes a set as set(list)
        return (Callable) args -> {
          if (args.isEmpty()) return new LinkedHashSet<>();
          if (args.size() == 1 && args.get(0) instanceof List<?> items) return new LinkedHashSet<>(items);
          throw new PickleException(global + " expects one list argument, got " + args);
        };
      }
      default -> {
        if (module.equals("torch") && name.endsWith("Storage")) {
          return DType.fromStorageClass(name).map(StorageType::new).orElseThrow(() -> new PickleException(
              "unsupported storage type torch." + name + " (supported dtypes: " + DType.names() + ")"));
        }
        throw new PickleException("refused global '" + global + "': a checkpoint may only name "
            + "collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter, "
            + "torch.<Type>Storage and set (refused so that loading can never run code; save only the state dict "
            + "to load such a file)");
      }
    }
  }

  /**
   * ('storage', torch.&lt;Type&gt;Storage, key, location, numel) in the zip format; the legacy format adds a sixth
   * item, view_metadata: None, or (view_key, offset, numel) for a view of the root storage.
   */
  private Object persistentLoad(Object pid) throws PickleException {
    if (!(pid instanceof List<?> t) || (t.size() != 5 && t.size() != 6) || !"storage".equals(t.get(0))) {
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
    StorageRef root = seen != null ? seen : ref;
    if (t.size() == 6 && t.get(5) != null) {
      if (!(t.get(5) instanceof List<?> view) || view.size() != 3 || !(view.get(1) instanceof Long off)
          || !(view.get(2) instanceof Long n) || off < 0 || n < 0 || off + n > numel) {
        throw new PickleException("storage '" + key + "' has an invalid view " + t.get(5));
      }
      return new StorageView(root, off, n);
    }
    return root;
  }

  /** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]). */
  private static Object rebuildTensor(List<Object> args) throws PickleException {
    if (args.size() < 6 || args.size() > 7) {
      throw new PickleException("_rebuild_tensor_v2 expects 6 or 7 arguments, got " + args.size());
    }
    StorageRef storage;
    long base = 0;
    switch (args.get(0)) {
      case StorageRef s -> storage = s;
      case StorageView v -> {
        storage = v.root();
        base = v.offset();
      }
      case null, default -> throw new PickleException("_rebuild_tensor_v2 on "
          + RestrictedUnpickler.describe(args.get(0)) + " instead of a storage");
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
    return new TensorRef(storage, base + offset, size, stride);
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
}
