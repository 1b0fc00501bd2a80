package dev.mplug.data.dataset;

import dev.mplug.data.BadSampleException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * A task's annotation file parsed into typed samples, with media paths resolved against a root directory. Every
 * entry is parsed up front: unusable entries (wrong field types, missing fields, malformed lines, invalid UTF-8) keep
 * their index and throw their {@link BadSampleException} from {@link #get}; {@link #problems()} lists them all.
 */
public final class AnnotationDataset<S extends Sample> implements Dataset<S> {
  private final Task task;
  private final Path file;
  private final Path root;
  private final List<String> sources;
  private final Object[] entries;   // S or BadSampleException
  private final List<BadSampleException> problems;

  private AnnotationDataset(Task task, Path file, Path root, List<Annotation> annotations, Object[] entries) {
    this.task = task;
    this.file = file;
    this.root = root;
    this.sources = annotations.stream().map(Annotation::source).toList();
    this.entries = entries;
    List<BadSampleException> bad = new ArrayList<>();
    for (Object e : entries) if (e instanceof BadSampleException b) bad.add(b);
    this.problems = List.copyOf(bad);
  }

  /** Reads {@code file} in the format of {@code task}; media paths are relative to {@code root}. */
  public static AnnotationDataset<Sample> read(Task task, Path file, Path root) {
    return switch (task) {
      case PRETRAIN -> widen(pretrain(file, root));
      case CAPTION -> widen(caption(file, root));
      case VQA -> widen(vqa(file, root));
      case RETRIEVAL -> widen(retrieval(file, root));
      case RETRIEVAL_EVAL -> widen(retrievalEval(file, root));
      case GROUNDING -> widen(grounding(file, root));
      case VIDEO_CAPTION -> widen(videoCaption(file, root));
      case VIDEO_QA -> widen(videoQa(file, root));
      case NLVR2 -> widen(nlvr2(file, root));
      case SNLI_VE -> widen(snliVe(file, root));
    };
  }

  public static AnnotationDataset<PretrainSample> pretrain(Path file, Path root) {
    return parse(Task.PRETRAIN, file, root, PretrainSample::parse);
  }

  public static AnnotationDataset<CaptionSample> caption(Path file, Path root) {
    return parse(Task.CAPTION, file, root, CaptionSample::parse);
  }

  public static AnnotationDataset<VqaSample> vqa(Path file, Path root) {
    return parse(Task.VQA, file, root, VqaSample::parse);
  }

  public static AnnotationDataset<GroundingSample> grounding(Path file, Path root) {
    return parse(Task.GROUNDING, file, root, GroundingSample::parse);
  }

  public static AnnotationDataset<VideoCaptionSample> videoCaption(Path file, Path root) {
    return parse(Task.VIDEO_CAPTION, file, root, VideoCaptionSample::parse);
  }

  public static AnnotationDataset<VideoQaSample> videoQa(Path file, Path root) {
    return parse(Task.VIDEO_QA, file, root, VideoQaSample::parse);
  }

  public static AnnotationDataset<Nlvr2Sample> nlvr2(Path file, Path root) {
    return parse(Task.NLVR2, file, root, Nlvr2Sample::parse);
  }

  public static AnnotationDataset<SnliVeSample> snliVe(Path file, Path root) {
    return parse(Task.SNLI_VE, file, root, SnliVeSample::parse);
  }

  /** Retrieval training pairs; distinct image ids are numbered in order of first appearance. */
  public static AnnotationDataset<RetrievalSample> retrieval(Path file, Path root) {
    Map<String, Integer> imageIndex = new HashMap<>();
    return parse(Task.RETRIEVAL, file, root, a -> {
      String image = a.relativePath("image");
      String caption = a.string("caption");
      String id = a.id("image_id");
      return new RetrievalSample(image, caption, id, imageIndex.computeIfAbsent(id, k -> imageIndex.size()));
    });
  }

  /**
   * Retrieval evaluation: one entry per image (image index = entry index), the captions of the usable entries numbered
   * consecutively across the file (see {@link RetrievalGold}).
   */
  public static AnnotationDataset<RetrievalEvalSample> retrievalEval(Path file, Path root) {
    int[] next = {0, 0};   // next entry (= image index), next text index (usable entries only)
    return parse(Task.RETRIEVAL_EVAL, file, root, a -> {
      int imageIndex = next[0]++;
      RetrievalEvalSample s = new RetrievalEvalSample(a.relativePath("image"), a.stringOrStrings("caption"),
          imageIndex, next[1]);
      next[1] += s.captions().size();
      return s;
    });
  }

  private static <S extends Sample> AnnotationDataset<S> parse(Task task, Path file, Path root,
      Function<Annotation, S> parser) {
    Objects.requireNonNull(root, "root");
    if (!Files.isDirectory(root)) {
      throw new IllegalArgumentException("dataset root " + root + " is not a directory");
    }
    List<Annotation> annotations = AnnotationFile.read(file);
    Object[] entries = new Object[annotations.size()];
    for (int i = 0; i < entries.length; i++) {
      Annotation a = annotations.get(i);
      try {
        entries[i] = parser.apply(a);     // in file order: the retrieval numbering relies on it
      } catch (BadSampleException e) {
        entries[i] = e;
      }
    }
    return new AnnotationDataset<>(task, file, root, annotations, entries);
  }

  @SuppressWarnings("unchecked")
  private static AnnotationDataset<Sample> widen(AnnotationDataset<? extends Sample> d) {
    return (AnnotationDataset<Sample>) d;   // read-only view: S extends Sample
  }

  public Task task() {
    return task;
  }

  public Path file() {
    return file;
  }

  public Path root() {
    return root;
  }

  @Override
  public int size() {
    return entries.length;
  }

  @Override
  @SuppressWarnings("unchecked")
  public S get(int index) {
    Object e = entries[Objects.checkIndex(index, entries.length)];
    if (e instanceof BadSampleException bad) throw bad;
    return (S) e;
  }

  @Override
  public String source(int index) {
    return sources.get(index);
  }

  /** The media file of a relative path from a sample. */
  public Path resolve(String relative) {
    return root.resolve(relative).normalize();
  }

  /** Every unusable entry, in file order. */
  public List<BadSampleException> problems() {
    return problems;
  }
}
