package dev.mplug.data.loader;

import java.util.List;

/**
 * Collates prepared samples into a batch's tensors. Runs on a worker thread inside a
 * {@link dev.mplug.torch.TensorScope}: every tensor put into {@code out} is kept, everything else created here is
 * freed when the batch is done.
 */
@FunctionalInterface
public interface Collator<T> {
  void collate(List<T> samples, Batch.Builder out);
}
