package dev.mplug.task.vqa;

import dev.mplug.data.dataset.Task;
import dev.mplug.data.loader.Batch;
import dev.mplug.data.loader.DataLoader;
import dev.mplug.data.loader.Example;
import dev.mplug.data.loader.LoaderConfig;
import dev.mplug.data.loader.PipelineOptions;
import dev.mplug.data.loader.Pipelines;
import dev.mplug.data.loader.SampleFunction;
import dev.mplug.data.loader.SampleStore;
import dev.mplug.data.loader.TextOptions;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.TextCleaning;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.LoaderBatches;
import dev.mplug.train.Batches;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * The VQA training stream: a VQA file in the official mPLUG format ({@code question_id, image, question, answer,
 * dataset}) through the data loader (images decoded and augmented as the official recipe when {@code data.augment},
 * questions cleaned with the OCR / object context appended, answers weighted), endless over epochs and resumable. Each
 * answer gets "[SEP]" appended before tokenisation, as the official loader does ({@code answer + eos}), so the decoder
 * learns {@code [CLS] answer [SEP] [SEP]}.
 */
public final class VqaData {
  private VqaData() {}

  /** The stream (close it to stop the loader's workers). */
  public static Batches<VqaBatch> open(FinetuneConfig.Data data, int imageRes, BertTokenizer tokenizer, long seed,
      int rank, int worldSize) {
    PipelineOptions options = options(data, imageRes, data.augment());
    LoaderConfig config = LoaderBatches.trainingConfig(data.batchSize(), data.workers(), data.maxBadFraction(), seed,
        rank, worldSize);
    SampleStore store = Pipelines.annotations(Task.VQA, data.annotations(), data.root());
    DataLoader<Example<Mat>> loader = new DataLoader<>(store, answersWithEos(Pipelines.preparation(Task.VQA, options)),
        Pipelines.collator(tokenizer, options), config);
    // copies owned by the caller's scope; the batch (and its worker-side memory) is released at once
    return new LoaderBatches<>(loader, b -> new VqaBatch(b.tensor(Batch.IMAGES).clone(),
        b.tensor(Batch.TEXT_IDS).clone(), b.tensor(Batch.TEXT_MASK).clone(), b.tensor(Batch.ANSWER_IDS).clone(),
        b.tensor(Batch.ANSWER_MASK).clone(), b.tensor(Batch.ANSWER_COUNTS).clone(),
        b.tensor(Batch.ANSWER_WEIGHTS).clone()),
        "data.annotations: " + data.annotations() + " (batch " + data.batchSize() + ")");
  }

  /**
   * The pipeline options of VQA: image side {@code imageRes}, the official training augmentation when {@code augment}
   * (flips included, as the official recipe), questions of {@code data.max_words} words and {@code data.max_tokens}
   * tokens with the OCR tokens and object labels appended when the file has them, answers of
   * {@code data.max_answer_tokens} tokens.
   */
  static PipelineOptions options(FinetuneConfig.Data data, int imageRes, boolean augment) {
    TextOptions text = new TextOptions(TextCleaning.CAPTION_MAX_WORDS, data.maxWords(), true, true, false, false);
    PipelineOptions base = augment ? PipelineOptions.training(imageRes) : PipelineOptions.evaluation(imageRes);
    return base.withText(text).withMaxLengths(data.maxTokens(), data.maxAnswerTokens());
  }

  /** The answer as the official loader tokenises it: the answer string followed by the end token. */
  static String withEos(String answer) {
    return answer + Vocabulary.SEP;
  }

  /** {@code prepare} with "[SEP]" appended to every answer ({@link #withEos}); video QA trains on it too. */
  public static SampleFunction<Example<Mat>> answersWithEos(SampleFunction<Example<Mat>> prepare) {
    return (loaded, rng) -> {
      Example<Mat> e = prepare.apply(loaded, rng);
      return new Example<>(e.media(), e.text(), e.answers().stream().map(VqaData::withEos).toList(),
          e.answerWeights(), e.label(), e.box(), e.id());
    };
  }
}
