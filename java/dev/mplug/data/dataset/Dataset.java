package dev.mplug.data.dataset;

/**
 * Indexed samples. {@link #get} throws {@link dev.mplug.data.BadSampleException} for an entry that cannot be used;
 * indices never shift because of it, so a loader can replace the entry deterministically.
 */
public interface Dataset<S> {
  int size();

  /** Sample {@code index}; throws {@link dev.mplug.data.BadSampleException} for an unusable entry. */
  S get(int index);

  /** Where sample {@code index} came from: {@code file:line} or {@code shard#index}. */
  String source(int index);
}
