package dev.mplug.model;

import dev.mplug.nn.Handles;
import dev.mplug.nn.KeyValues;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * The decoder's key/value cache for step-by-step generation: per layer the self-attention keys/values of every token
 * decoded so far and the cross-attention keys/values of the encoder states (computed once), plus the additive
 * encoder mask. It owns its tensors (outside any TensorScope) and frees the old ones whenever it is updated;
 * {@link #close} frees the rest.
 */
public final class DecoderCache implements AutoCloseable {
  private final List<KeyValues> self = new ArrayList<>();
  private final List<KeyValues> cross = new ArrayList<>();
  private Tensor memoryMask;
  private long length;

  DecoderCache(List<KeyValues> cross, Tensor memoryMask) {
    for (KeyValues kv : cross) {
      this.cross.add(own(kv));
      this.self.add(null);
    }
    this.memoryMask = Handles.own(memoryMask);
  }

  /** Tokens decoded so far (the position of the next one). */
  public long length() {
    return length;
  }

  public int rows() {
    return (int) memoryMask.size(0);
  }

  KeyValues self(int layer) {
    return self.get(layer);
  }

  KeyValues cross(int layer) {
    return cross.get(layer);
  }

  Tensor memoryMask() {
    return memoryMask;
  }

  /** Replaces layer {@code layer}'s self-attention keys/values (freshly computed in the caller's scope). */
  void setSelf(int layer, KeyValues kv) {
    KeyValues old = self.set(layer, own(kv));
    free(old);
  }

  void advance(long tokens) {
    length += tokens;
  }

  /**
   * Keeps rows {@code selfRows} (int64 [N], e.g. the beams' sources) of the self-attention cache; when
   * {@code crossRows} is not null the encoder keys/values and mask are reduced to those rows too (they differ from
   * selfRows only in order within one example, where all rows hold the same encoder states).
   */
  public void reorder(Tensor selfRows, Tensor crossRows) {
    for (int i = 0; i < self.size(); i++) {
      if (self.get(i) != null) setSelf(i, self.get(i).select(selfRows));
      if (crossRows != null) {
        KeyValues old = cross.set(i, own(cross.get(i).select(crossRows)));
        free(old);
      }
    }
    if (crossRows != null) {
      Tensor old = memoryMask;
      memoryMask = Handles.own(memoryMask.index_select(0, crossRows));
      Handles.release(old);
    }
  }

  @Override
  public void close() {
    self.forEach(DecoderCache::free);
    cross.forEach(DecoderCache::free);
    Handles.release(memoryMask);
    self.clear();
    cross.clear();
  }

  private static KeyValues own(KeyValues kv) {
    return new KeyValues(Handles.own(kv.keys()), Handles.own(kv.values()));
  }

  private static void free(KeyValues kv) {
    if (kv != null) Handles.release(kv.keys(), kv.values());
  }
}
