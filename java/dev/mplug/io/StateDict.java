package dev.mplug.io;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.bytedeco.pytorch.Tensor;

/**
 * Named tensors in file order, as read from a checkpoint: the Java side of a PyTorch {@code state_dict()}.
 *
 * <p>It owns its tensors (CPU, each with its own memory): {@link #close()} frees them. Created inside a
 * {@link dev.mplug.torch.TensorScope}, the tensors also belong to that scope.
 */
public final class StateDict implements AutoCloseable {
  private final Map<String, Tensor> tensors;
  private final Map<String, String> metadata;
  private final String origin;

  /** Takes ownership of {@code tensors}; {@code origin} names where they came from (a file) in messages. */
  public StateDict(Map<String, Tensor> tensors, Map<String, String> metadata, String origin) {
    this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    this.metadata = Map.copyOf(metadata);
    this.origin = origin;
  }

  /** The tensor named {@code key}; throws naming the key and the origin when there is none. */
  public Tensor get(String key) {
    Tensor t = tensors.get(key);
    if (t == null) throw new NoSuchElementException(origin + ": no tensor named '" + key + "'");
    return t;
  }

  public boolean contains(String key) {
    return tensors.containsKey(key);
  }

  /** Keys in file order. */
  public List<String> keys() {
    return List.copyOf(tensors.keySet());
  }

  public int size() {
    return tensors.size();
  }

  /** A read-only view in file order. */
  public Map<String, Tensor> asMap() {
    return tensors;
  }

  /** The string metadata of the file (safetensors {@code __metadata__}); empty for torch checkpoints. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** Where the tensors came from (a file path), for messages. */
  public String origin() {
    return origin;
  }

  @Override
  public void close() {
    for (Tensor t : tensors.values()) t.close();
  }

  @Override
  public String toString() {
    return "StateDict(" + tensors.size() + " tensors from " + origin + ")";
  }
}
