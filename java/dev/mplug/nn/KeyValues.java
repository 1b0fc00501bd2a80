package dev.mplug.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Attention keys and values split into heads, {@code [B, h, Tk, d]} each: what a decoder caches per layer so that a
 * generation step projects only its new token.
 */
public record KeyValues(Tensor keys, Tensor values) {
  /** These keys/values followed by {@code next}'s along the key axis. */
  public KeyValues append(KeyValues next) {
    return new KeyValues(torch.cat(new TensorVector(keys, next.keys), 2), torch.cat(new TensorVector(values,
        next.values), 2));
  }

  /** The rows {@code index} (int64 [N]) of the batch, e.g. the surviving beams' sources. */
  public KeyValues select(Tensor index) {
    return new KeyValues(keys.index_select(0, index), values.index_select(0, index));
  }

  public long length() {
    return keys.size(2);
  }
}
