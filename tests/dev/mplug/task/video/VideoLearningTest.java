package dev.mplug.task.video;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.FinetuneRun;
import dev.mplug.task.PretrainedShapes;
import dev.mplug.task.TrainedModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The video tasks learn: from the shared pretrained shapes model (image-text pretraining only), a short run of each
 * shipped video demo recipe on the shapes world's clips scores clearly above the untrained model on the held-out clips.
 * The clips live in a world made from the pretrained one's config plus 300 clips: the same images, so every image word
 * keeps the id the pretrained model learned it under (the clips' own words come after them). Measured on the 30
 * held-out clips (150 steps each, 1 thread, 2 busy cores), from the pretraining with random ITM negatives (the demo
 * recipe now): retrieval r_mean untrained 15.6, zero-shot 49.2, fine-tuned 76.1 (81 s); captioning CIDEr 0, 17.6,
 * 88.7 (26 s); QA accuracy on their 147 questions 6.8, 6.1, 49.0 (44 s). From the earlier pretraining with the
 * official hard negatives (ITM at its prior): retrieval 15.6, 30.6, 78.9; captioning 0, 36.8, 117.4; QA 6.8, 3.4,
 * 29.3. Zero-shot: the image-text model reads the clip's frames as one visual stream, never having seen a video.
 *
 * <p>The zero-shot captioning margin was 20 CIDEr under the earlier pretraining and is 10 now: learning ITM took
 * zero-shot captioning from 36.8 to 17.6 at this pretraining length (and image captioning's zero-shot in the demo
 * from 107.3 to 84.6); the claim checked, that the image-text model captions clips at all where the untrained one
 * scores 0, is the same.
 */
class VideoLearningTest {
  @TempDir static Path tmp;
  private static Path world;

  @BeforeAll
  static void world() throws IOException {
    world = tmp.resolve("video-world");
    ShapesWorld.generate(world, new ShapesWorld.Config(1000, 300, 11, 64, 0.1, 16));
    // every pretraining caption reads the same ids under both vocabularies
    BertTokenizer pretrained = BertTokenizer.load(PretrainedShapes.world().resolve(SynthFiles.VOCAB));
    BertTokenizer withClips = BertTokenizer.load(world.resolve(SynthFiles.VOCAB));
    int compared = 0;
    for (JsonNode entry : new ObjectMapper().readTree(world.resolve(SynthFiles.PRETRAIN).toFile())) {
      for (JsonNode caption : entry.get("caption")) {
        String text = caption.asText();
        assertArrayEquals(pretrained.tokenIds(text), withClips.tokenIds(text), text);
        compared++;
      }
    }
    assertTrue(compared > 2000, compared + " captions");
  }

  private static FinetuneRun.Report run(String task, Path train, Path test, String... sets) {
    List<String> all = new ArrayList<>(List.of("data.annotations=" + world.resolve(train), "data.root=" + world,
        "eval.annotations=" + world.resolve(test), "init.checkpoint=" + PretrainedShapes.checkpoint(),
        "output_dir=" + tmp.resolve(task), "threads=1", "data.workers=1", "train.log_every=50"));
    all.addAll(List.of(sets));
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    long t0 = System.nanoTime();
    FinetuneRun.Report r = FinetuneRun.run(FinetuneConfig.load(task + "-demo", all),
        new FinetuneRun.Options(false, Long.MAX_VALUE, true), new PrintStream(log, true));
    String metric = r.metrics().get(0);
    System.out.printf(Locale.ROOT, "[learning] %s %s: untrained %.2f, pretrained (zero-shot) %.2f, fine-tuned %.2f "
        + "(%.0f s)%n", task, metric, r.untrained().metric(metric), r.before().metric(metric),
        r.after().metric(metric), (System.nanoTime() - t0) / 1e9);
    System.out.println(log);
    return r;
  }

  /** Fine-tuned above untrained by {@code margin}; the checkpoint records its task. */
  private static void assertLearns(FinetuneRun.Report r, double margin) {
    String m = r.metrics().get(0);
    double untrained = r.untrained().metric(m);
    double fineTuned = r.after().metric(m);
    assertTrue(fineTuned > untrained + margin, m + ": fine-tuned " + fineTuned + " vs untrained " + untrained);
    assertEquals(Optional.of(r.task()), TrainedModel.storedTask(r.checkpoint()), "the checkpoint records its task");
  }

  /** Zero-shot (the image-text model before fine-tuning) above untrained by {@code margin}. */
  private static void assertZeroShot(FinetuneRun.Report r, double margin) {
    String m = r.metrics().get(0);
    double untrained = r.untrained().metric(m);
    double pretrained = r.before().metric(m);
    assertTrue(pretrained > untrained + margin, m + ": zero-shot " + pretrained + " vs untrained " + untrained);
  }

  @Test
  void videoQa() {
    FinetuneRun.Report r = run(VideoQaTask.NAME, Path.of(SynthFiles.VIDEO_QA_TRAIN), Path.of(SynthFiles.VIDEO_QA_TEST),
        "train.total_steps=150", "train.warmup_steps=15");
    assertLearns(r, 15);   // zero-shot the pretrained decoder ranks the answers as caption words: about chance
  }

  @Test
  void videoRetrieval() {
    FinetuneRun.Report r = run(VideoRetrievalTask.NAME, Path.of(SynthFiles.VIDEO_CAPTION_TRAIN),
        Path.of(SynthFiles.VIDEO_CAPTION_TEST), "train.total_steps=150", "train.warmup_steps=15");
    assertLearns(r, 40);
    assertZeroShot(r, 5);
  }

  @Test
  void videoCaption() {
    FinetuneRun.Report r = run(VideoCaptionTask.NAME, Path.of(SynthFiles.VIDEO_CAPTION_TRAIN),
        Path.of(SynthFiles.VIDEO_CAPTION_TEST), "train.total_steps=150", "train.warmup_steps=15");
    assertLearns(r, 60);
    assertZeroShot(r, 10);
  }
}
