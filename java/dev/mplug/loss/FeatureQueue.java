package dev.mplug.loss;

import dev.mplug.torch.Tensors;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The ITC feature queues: the last {@code size} normalised momentum image and text features ([D, size] each, as in
 * ALBEF) and their sample ids, filled round-robin. In data-parallel training the features to enqueue are first
 * all-gathered across ranks ({@code allGather}), so every rank holds the same queue.
 */
public final class FeatureQueue implements AutoCloseable {
  private final Tensor imageQueue;   // [D, Q]
  private final Tensor textQueue;    // [D, Q]
  private final Tensor idQueue;      // [1, Q], int64, -100 until filled
  private long pointer;
  private final UnaryOperator<Tensor> allGather;

  /** Random unit columns, as ALBEF initialises its queues. */
  public FeatureQueue(long dim, long size, UnaryOperator<Tensor> allGather) {
    if (dim < 1 || size < 1) throw new IllegalArgumentException("queue dim and size must be >= 1");
    this.imageQueue = normalizeColumns(torch.randn(dim, size));
    this.textQueue = normalizeColumns(torch.randn(dim, size));
    this.idQueue = torch.full(new long[] {1, size}, new Scalar(-100.0)).to(torch.ScalarType.Long);
    this.allGather = allGather == null ? UnaryOperator.identity() : allGather;
    for (Tensor t : new Tensor[] {imageQueue, textQueue, idQueue}) t.retainReference();
  }

  /** Restores queues from a checkpoint (tensors are copied). */
  public FeatureQueue(Tensor imageQueue, Tensor textQueue, Tensor idQueue, long pointer, UnaryOperator<Tensor> allGather) {
    this.imageQueue = imageQueue.detach().clone();
    this.textQueue = textQueue.detach().clone();
    this.idQueue = idQueue.detach().clone();
    this.pointer = pointer;
    this.allGather = allGather == null ? UnaryOperator.identity() : allGather;
    for (Tensor t : new Tensor[] {this.imageQueue, this.textQueue, this.idQueue}) t.retainReference();
    if (this.imageQueue.size(1) != this.textQueue.size(1) || this.imageQueue.size(1) != this.idQueue.size(1)) {
      throw new IllegalArgumentException("queue sizes differ: image " + this.imageQueue.size(1) + ", text "
          + this.textQueue.size(1) + ", ids " + this.idQueue.size(1));
    }
  }

  private static Tensor normalizeColumns(Tensor x) {
    return Tensors.l2Normalize(x, 0).contiguous();                   // [D, Q], unit columns
  }

  public Tensor images() {
    return imageQueue;
  }

  public Tensor texts() {
    return textQueue;
  }

  public Tensor ids() {
    return idQueue;
  }

  public long pointer() {
    return pointer;
  }

  /** Restores the write position (from a checkpoint). */
  public void seek(long position) {
    if (position < 0 || position >= size()) {
      throw new IllegalArgumentException("queue pointer " + position + " is outside the queue of " + size());
    }
    pointer = position;
  }

  public long size() {
    return imageQueue.size(1);
  }

  /**
   * Enqueues the momentum features of this step (gathered across ranks first) at the pointer, wrapping around.
   *
   * @param imageFeat [B, D] normalised momentum image features
   * @param textFeat [B, D] normalised momentum text features
   * @param ids [B] sample ids (int64), or null
   */
  public void enqueue(Tensor imageFeat, Tensor textFeat, Tensor ids) {
    try (var guard = new NoGradGuard()) {
      Tensor img = allGather.apply(imageFeat.detach());     // [N, D]
      Tensor txt = allGather.apply(textFeat.detach());      // [N, D]
      Tensor id = ids == null ? null : allGather.apply(ids.detach());
      long n = img.size(0);
      long q = size();
      if (n > q) throw new IllegalArgumentException("batch of " + n + " features exceeds the queue size " + q);
      long first = Math.min(n, q - pointer);
      write(img, txt, id, 0, first, pointer);
      if (first < n) write(img, txt, id, first, n - first, 0);
      pointer = (pointer + n) % q;
    }
  }

  private void write(Tensor img, Tensor txt, Tensor id, long from, long count, long at) {
    imageQueue.narrow(1, at, count).copy_(img.narrow(0, from, count).t());
    textQueue.narrow(1, at, count).copy_(txt.narrow(0, from, count).t());
    if (id != null) idQueue.narrow(1, at, count).copy_(id.narrow(0, from, count).view(1, count));
  }

  @Override
  public void close() {
    for (Tensor t : new Tensor[] {imageQueue, textQueue, idQueue}) t.releaseReference();
  }
}
