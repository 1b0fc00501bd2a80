package dev.mplug.task.caption;

import dev.mplug.data.dataset.Task;
import dev.mplug.data.image.Images;
import dev.mplug.data.loader.Batch;
import dev.mplug.data.loader.LoaderConfig;
import dev.mplug.data.loader.PipelineOptions;
import dev.mplug.data.loader.Pipelines;
import dev.mplug.data.loader.TextOptions;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.LoaderBatches;
import dev.mplug.train.Batches;
import java.util.List;

/**
 * The captioning training stream: a COCO-Karpathy style file ({@code [{"image", "caption", "image_id"}]}, one entry
 * per caption; an entry with a caption list gives one of them per epoch) through the data loader (decoding,
 * augmentation when {@code data.augment}, {@code pre_caption} cleaning), endless over epochs and resumable. Each
 * caption becomes {@code [CLS] caption [SEP] [SEP]}: the official training appends "[SEP]" to the text before the
 * tokenizer adds its own, truncated to {@code data.max_tokens} (official {@code max_input_length} 25); with a prompt,
 * {@code [CLS] prompt caption [SEP] [SEP]}.
 */
public final class CaptionData {
  private CaptionData() {}

  /** The stream (close it to stop the loader's workers). */
  public static Batches<CaptionBatch> open(FinetuneConfig.Data data, int imageRes, BertTokenizer tokenizer,
      String prompt, long seed, int rank, int worldSize) {
    PipelineOptions options = new PipelineOptions(imageRes, data.augment(), data.augment(), data.maxTokens(),
        PipelineOptions.DEFAULT_MAX_ANSWER_LENGTH, PipelineOptions.DEFAULT_VIDEO_FRAMES, Images.DEFAULT_MAX_PIXELS,
        new TextOptions(data.maxWords(), 30, false, false, true, false));
    LoaderConfig config = LoaderBatches.trainingConfig(data.batchSize(), data.workers(), data.maxBadFraction(), seed,
        rank, worldSize);
    int maxTokens = data.maxTokens();
    return new LoaderBatches<>(
        Pipelines.loader(Task.CAPTION, Pipelines.annotations(Task.CAPTION, data.annotations(), data.root()), tokenizer,
            options, config),
        b -> batch(b, tokenizer, prompt, maxTokens),
        "data.annotations: " + data.annotations() + " (batch " + data.batchSize() + ")");
  }

  /**
   * A loader batch as a captioning batch (video captioning's too): its media copied, its cleaned captions as the
   * decoder's targets ({@link #target}) of at most {@code maxTokens} tokens, its ids.
   */
  public static CaptionBatch batch(Batch b, BertTokenizer tokenizer, String prompt, int maxTokens) {
    List<String> targets = b.strings(Batch.TEXTS).stream().map(c -> target(prompt, c)).toList();
    TokenBatch t = tokenizer.encodeBatch(targets, maxTokens, Padding.LONGEST);
    return new CaptionBatch(b.tensor(Batch.IMAGES).clone(), t.idsTensor(), t.maskTensor(), b.strings(Batch.IDS));
  }

  /**
   * The text the decoder is trained on for a cleaned caption: the prompt (if any), the caption and the official extra
   * end token.
   */
  static String target(String prompt, String caption) {
    return (prompt.isEmpty() ? "" : prompt + " ") + caption + " " + Vocabulary.SEP;
  }
}
