package dev.mplug.task.pretrain;

import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.RetrievalEvalSample;
import dev.mplug.data.image.ImageBatch;
import dev.mplug.data.image.ImageTransform;
import dev.mplug.data.image.Images;
import dev.mplug.data.image.Transforms;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TextCleaning;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.eval.MaskedTokenAccuracy;
import dev.mplug.eval.RetrievalRecall;
import dev.mplug.model.MPlug;
import dev.mplug.task.retrieval.RetrievalRanking;
import dev.mplug.torch.Tensors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import java.util.random.RandomGenerator;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.pytorch.Tensor;

/**
 * What pretraining is judged by on held-out data: image-text retrieval (ITC top-k re-ranked by ITM, Recall@K both
 * ways) and MLM accuracy on the same captions. The evaluation set is loaded once (eval transform, no augmentation).
 */
public final class PretrainEvaluation implements AutoCloseable {
  /**
   * The figures of one evaluation: retrieval as the official code ranks (ITC top-k re-ranked by ITM), by the ITC
   * similarities alone, and MLM accuracy.
   */
  public record Result(RetrievalRecall.Result retrieval, RetrievalRecall.Result itcRetrieval,
      MaskedTokenAccuracy.Result mlm) {
    /** One figure by name (see {@link #METRICS}); all are percentages, higher is better. */
    public double metric(String name) {
      ToDoubleFunction<Result> figure = BY_NAME.get(name);
      if (figure == null) throw new IllegalArgumentException("unknown metric " + name + " (known: " + METRICS + ")");
      return figure.applyAsDouble(this);
    }
  }

  /**
   * What a checkpoint can be judged by: r_mean (the mean of R@1/5/10 both ways, the official retrieval runs' choice),
   * mean_r1, text_r1 (image -> text), image_r1 (text -> image), mlm_accuracy.
   */
  private static final Map<String, ToDoubleFunction<Result>> BY_NAME = new LinkedHashMap<>();

  static {
    BY_NAME.put("r_mean", r -> r.retrieval().mean());
    BY_NAME.put("mean_r1", r -> (r.retrieval().textR1() + r.retrieval().imageR1()) / 2);
    BY_NAME.put("text_r1", r -> r.retrieval().textR1());
    BY_NAME.put("image_r1", r -> r.retrieval().imageR1());
    BY_NAME.put("mlm_accuracy", r -> r.mlm().percent());
  }

  /** The metric names, in the order above. */
  public static final List<String> METRICS = List.copyOf(BY_NAME.keySet());

  private final Tensor images;       // [N, 3, R, R]
  private final Tensor textIds;      // [M, T]
  private final Tensor textMask;     // [M, T]
  private final Tensor imageOfTextT; // [M]
  private final List<int[]> textsOfImage = new ArrayList<>();
  private final int[] imageOfText;
  private final Vocabulary vocabulary;
  private final int rerankK;

  /**
   * @param file a retrieval evaluation JSON ({image, caption: [..]})
   * @param maxImages use the first this many images (0 = all)
   */
  public PretrainEvaluation(Path file, Path root, int imageRes, BertTokenizer tokenizer, int maxTokens, int maxWords,
      int maxImages, int rerankK) {
    AnnotationDataset<RetrievalEvalSample> dataset = AnnotationDataset.retrievalEval(file, root);
    int n = maxImages > 0 ? Math.min(maxImages, dataset.size()) : dataset.size();
    if (n < 2) throw new IllegalArgumentException(file + ": retrieval evaluation needs at least 2 images");
    ImageTransform eval = Transforms.eval(imageRes);
    List<Mat> mats = new ArrayList<>();
    List<String> captions = new ArrayList<>();
    List<Integer> owner = new ArrayList<>();
    RandomGenerator none = RandomGenerator.of("L64X128MixRandom");
    try {
      for (int i = 0; i < n; i++) {
        RetrievalEvalSample s = dataset.get(i);
        try (Mat decoded = Images.read(dataset.resolve(s.image()))) {
          mats.add(eval.apply(decoded, none));
        }
        int[] mine = new int[s.captions().size()];
        for (int c = 0; c < mine.length; c++) {
          mine[c] = captions.size();
          captions.add(TextCleaning.preCaption(s.captions().get(c), maxWords));
          owner.add(i);
        }
        textsOfImage.add(mine);
      }
      this.images = ImageBatch.toTensor(mats);
    } finally {
      mats.forEach(Mat::close);
    }
    TokenBatch t = tokenizer.encodeBatch(captions, maxTokens, Padding.LONGEST);
    this.textIds = t.idsTensor();
    this.textMask = t.maskTensor();
    this.imageOfText = owner.stream().mapToInt(Integer::intValue).toArray();
    this.imageOfTextT = Tensors.longs(owner.stream().mapToLong(Integer::longValue).toArray(), owner.size());
    for (Tensor x : new Tensor[] {images, textIds, textMask, imageOfTextT}) x.retainReference();
    this.vocabulary = tokenizer.vocabulary();
    this.rerankK = rerankK;
  }

  public int images() {
    return (int) images.size(0);
  }

  public int texts() {
    return imageOfText.length;
  }

  public Result evaluate(MPlug model, long seed) {
    RetrievalRanking.Result ranking = RetrievalRanking.rank(model, images, textIds, textMask,
        new RetrievalRanking.Gold(textsOfImage, imageOfText), new RetrievalRanking.Options(rerankK, 256, 256));
    Tensor captionImages = images.index_select(0, imageOfTextT);                 // [M, 3, R, R]
    MaskedTokenAccuracy.Result mlm = MaskedTokenAccuracy.compute(model, captionImages, textIds, textMask,
        vocabulary.size(), vocabulary.padId(), vocabulary.clsId(), vocabulary.maskId(), seed);
    return new Result(ranking.recall(), ranking.itcRecall(), mlm);
  }

  @Override
  public void close() {
    for (Tensor x : new Tensor[] {images, textIds, textMask, imageOfTextT}) x.releaseReference();
  }
}
