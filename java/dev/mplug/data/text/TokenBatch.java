package dev.mplug.data.text;

import dev.mplug.torch.Tensors;
import java.util.Arrays;
import org.bytedeco.pytorch.Tensor;

/**
 * A batch of encoded texts, row-major {@code [B, T]}: token ids and the attention mask (1 = real token, 0 = padding).
 * Plain Java arrays; {@link #idsTensor()} and {@link #maskTensor()} make the int64 tensors the model takes.
 */
public final class TokenBatch {
  private final int size;
  private final int length;
  private final long[] ids;
  private final long[] mask;

  TokenBatch(int size, int length, long[] ids, long[] mask) {
    if (ids.length != (long) size * length || mask.length != ids.length) {
      throw new IllegalArgumentException("a [" + size + ", " + length + "] batch needs " + size * length
          + " ids and mask entries, got " + ids.length + " and " + mask.length);
    }
    this.size = size;
    this.length = length;
    this.ids = ids;
    this.mask = mask;
  }

  /** B: number of texts. */
  public int size() {
    return size;
  }

  /** T: padded length. */
  public int length() {
    return length;
  }

  /** The ids, row-major [B, T] (a copy). */
  public long[] ids() {
    return ids.clone();
  }

  /** The attention mask, row-major [B, T] (a copy). */
  public long[] mask() {
    return mask.clone();
  }

  /** Row {@code i}'s ids, padding included. */
  public long[] row(int i) {
    return Arrays.copyOfRange(ids, i * length, (i + 1) * length);
  }

  /** Number of real tokens per row. */
  public int[] lengths() {
    int[] out = new int[size];
    for (int i = 0; i < size; i++) {
      for (int t = 0; t < length; t++) out[i] += (int) mask[i * length + t];
    }
    return out;
  }

  /** int64 {@code [B, T]} token ids. */
  public Tensor idsTensor() {
    return Tensors.longs(ids, size, length);    // [B, T]
  }

  /** int64 {@code [B, T]} attention mask. */
  public Tensor maskTensor() {
    return Tensors.longs(mask, size, length);   // [B, T]
  }
}
