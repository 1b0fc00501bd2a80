package dev.mplug.data.loader;

import dev.mplug.data.BadSampleException;
import dev.mplug.torch.TensorScope;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;

/**
 * One collated batch: named tensors (images, token ids and masks, targets), per-sample strings (ids), the dataset
 * indices actually used (after bad-sample replacement), the bad samples replaced in it, and the loader position after
 * it (save that with a checkpoint). {@link #close()} frees the tensors.
 */
public final class Batch implements AutoCloseable {
  /** {@code [B, 3, H, W]} float images ({@code [B, k, 3, H, W]} for k images per sample, e.g. NLVR2). */
  public static final String IMAGES = "images";
  /** {@code [B, T]} int64 token ids of the sample texts (captions, questions, sentences). */
  public static final String TEXT_IDS = "text_ids";
  /** {@code [B, T]} int64 attention mask of the texts (1 = token, 0 = padding). */
  public static final String TEXT_MASK = "text_mask";
  /**
   * Per-sample texts as the model reads them (cleaned, before tokenisation), row for row with {@link #TEXT_IDS}: what
   * needs the words themselves (prefix LM splits captions into words) takes them from here, never from decoded ids.
   */
  public static final String TEXTS = "texts";
  /** {@code [N, Ta]} int64 token ids of all answers of the batch, sample by sample (VQA). */
  public static final String ANSWER_IDS = "answer_ids";
  /** {@code [N, Ta]} int64 attention mask of the answers. */
  public static final String ANSWER_MASK = "answer_mask";
  /** {@code [N]} float answer weights. */
  public static final String ANSWER_WEIGHTS = "answer_weights";
  /** {@code [B]} int64 number of answers of each sample (rows of the answer tensors per question). */
  public static final String ANSWER_COUNTS = "answer_counts";
  /** {@code [B]} int64 class labels (NLVR2, SNLI-VE) or image indices (retrieval). */
  public static final String LABELS = "labels";
  /**
   * {@code [B, 4]} float boxes (x, y, w, h) in pixels: of the image the model sees for {@link GroundingPreparation}
   * (the letterboxed canvas), of the original image for {@link TaskPreparation}.
   */
  public static final String BOXES = "boxes";
  /** Per-sample ids (image id, question id, ref id) as strings. */
  public static final String IDS = "ids";

  private final int size;
  private final Map<String, Tensor> tensors;
  private final Map<String, List<String>> strings;
  private final int[] indices;
  private final List<BadSampleException> replaced;
  private final LoaderPosition position;

  private Batch(Builder b) {
    this.size = b.indices.length;
    this.tensors = Map.copyOf(b.tensors);
    this.strings = Map.copyOf(b.strings);
    this.indices = b.indices;
    this.replaced = List.copyOf(b.replaced);
    this.position = b.position;
  }

  /** B: number of samples. */
  public int size() {
    return size;
  }

  /** The tensor called {@code name}; a missing name is an error that lists the names present. */
  public Tensor tensor(String name) {
    Tensor t = tensors.get(name);
    if (t == null) throw new IllegalArgumentException("batch has no tensor \"" + name + "\"; it has " + names());
    return t;
  }

  public boolean has(String name) {
    return tensors.containsKey(name) || strings.containsKey(name);
  }

  public List<String> strings(String name) {
    List<String> s = strings.get(name);
    if (s == null) throw new IllegalArgumentException("batch has no strings \"" + name + "\"; it has " + names());
    return s;
  }

  /** Names of the tensors and string lists, sorted. */
  public List<String> names() {
    return Stream.concat(tensors.keySet().stream(), strings.keySet().stream()).sorted().toList();
  }

  /** Dataset index of each sample (the replacement's index where a bad sample was replaced). */
  public int[] indices() {
    return indices.clone();
  }

  /** Bad samples met while filling this batch (each was replaced). */
  public List<BadSampleException> replaced() {
    return replaced;
  }

  /** The loader position after this batch. */
  public LoaderPosition position() {
    return position;
  }

  @Override
  public void close() {
    tensors.values().forEach(Tensor::close);
  }

  /** Filled by the loader (indices, position, replacements) and the collator (tensors, strings). */
  public static final class Builder {
    private final int[] indices;
    private final List<BadSampleException> replaced;
    private final LoaderPosition position;
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final Map<String, List<String>> strings = new LinkedHashMap<>();

    Builder(int[] indices, List<BadSampleException> replaced, LoaderPosition position) {
      this.indices = indices;
      this.replaced = replaced;
      this.position = position;
    }

    /** A builder outside a loader (tests, evaluation code collating by hand). */
    public static Builder standalone(int size) {
      return new Builder(new int[size], List.of(), LoaderPosition.start(0));
    }

    public int size() {
      return indices.length;
    }

    public Builder tensor(String name, Tensor t) {
      if (tensors.putIfAbsent(name, t) != null) throw new IllegalArgumentException("tensor \"" + name + "\" set twice");
      return this;
    }

    public Builder strings(String name, List<String> values) {
      if (values.size() != indices.length) {
        throw new IllegalArgumentException("\"" + name + "\" has " + values.size() + " strings for " + indices.length
            + " samples");
      }
      strings.put(name, List.copyOf(values));
      return this;
    }

    /** The batch; its tensors are moved out of {@code scope} so they outlive it. */
    public Batch build(TensorScope scope) {
      if (scope != null) tensors.values().forEach(scope::keep);
      return new Batch(this);
    }
  }
}
