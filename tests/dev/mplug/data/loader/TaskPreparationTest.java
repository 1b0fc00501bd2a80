package dev.mplug.data.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.Box;
import dev.mplug.data.dataset.GroundingSample;
import dev.mplug.data.dataset.MediaRef;
import dev.mplug.data.dataset.Nlvr2Sample;
import dev.mplug.data.dataset.RetrievalEvalSample;
import dev.mplug.data.dataset.Sample;
import dev.mplug.data.dataset.SnliVeSample;
import dev.mplug.data.dataset.VqaSample;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TaskPreparationTest {
  static final BertTokenizer TOK = BertTokenizer.load(Path.of("tests/resources/data/vocab-small.txt"));
  /** The "image" is the first byte of the media. */
  static final MediaFunction<Float> FIRST_BYTE = (ref, rng) -> (float) ref.bytes()[0];
  static final TaskPreparation<Float> TRAIN = new TaskPreparation<>(FIRST_BYTE, TextOptions.training());
  static final TaskCollator<Float> COLLATE = new TaskCollator<>(TOK, 16, 6, xs -> {
    float[] v = new float[xs.size()];
    for (int i = 0; i < v.length; i++) v[i] = xs.get(i);
    return Tensors.floats(v, v.length, 1);          // [n, 1]
  });

  static LoadedSample loaded(Sample s) {
    List<MediaRef> media = new ArrayList<>();
    int k = 0;
    for (String name : s.media()) media.add(new MediaRef.Blob(name, new byte[] {(byte) (10 + k++)}, "mem:" + name));
    return new LoadedSample(0, s, media, "mem");
  }

  static Batch collate(List<Example<Float>> examples) {
    Batch.Builder b = Batch.Builder.standalone(examples.size());
    COLLATE.collate(examples, b);
    return b.build(null);
  }

  @Test
  void vqaQuestionsAreCleanedAndAnswersCollatedWithWeightsAndCounts() {
    VqaSample a = new VqaSample(1, "What colour is the car?", List.of("red", "blue"), List.of(0.75, 0.25), "a.jpg",
        "vqa", List.of("STOP"), List.of("car"));
    VqaSample b = new VqaSample(2, "Is it left?", List.of("yes"), List.of(1.0), "b.jpg", "vqa", List.of(), List.of());
    Example<Float> ea = TRAIN.apply(loaded(a), new SplittableRandom(0));
    assertEquals("what colour is the car [SEP] stop [SEP] car", ea.text());
    Example<Float> eb = TRAIN.apply(loaded(b), new SplittableRandom(0));
    assertEquals("is it left", eb.text());
    try (TensorScope _ = TensorScope.open(); Batch batch = collate(List.of(ea, eb))) {
      assertArrayEquals(new long[] {3, 3}, Tensors.shape(batch.tensor(Batch.ANSWER_IDS)));   // [CLS] answer [SEP]
      long[] ids = Tensors.toLongs(batch.tensor(Batch.ANSWER_IDS));
      assertEquals("red", TOK.decode(Arrays.copyOfRange(ids, 0, 3)));
      assertEquals("blue", TOK.decode(Arrays.copyOfRange(ids, 3, 6)));
      assertEquals("yes", TOK.decode(Arrays.copyOfRange(ids, 6, 9)));
      assertArrayEquals(new float[] {0.75f, 0.25f, 1f}, Tensors.toFloats(batch.tensor(Batch.ANSWER_WEIGHTS)));
      assertArrayEquals(new long[] {2, 1}, Tensors.toLongs(batch.tensor(Batch.ANSWER_COUNTS)));
      long[] q = Arrays.copyOfRange(Tensors.toLongs(batch.tensor(Batch.TEXT_IDS)), 0, 11);
      assertEquals(TOK.vocabulary().sepId(), q[6], "the context separator is the [SEP] token: " + Arrays.toString(q));
      assertEquals(List.of("1", "2"), batch.strings(Batch.IDS));
      assertFalse(batch.has(Batch.LABELS));
    }
  }

  @Test
  void nlvr2PairsAreViewedPerSampleAndSwapWithLeftAndRight() {
    Nlvr2Sample s = new Nlvr2Sample(List.of("l.png", "r.png"), "The left dog is on the right.", true);
    int swapped = 0;
    for (long seed = 0; seed < 40; seed++) {
      Example<Float> e = TRAIN.apply(loaded(s), new SplittableRandom(seed));
      if (e.media().get(0) == 11f) {
        swapped++;
        assertEquals("the right dog is on the left", e.text());
      } else {
        assertEquals("the left dog is on the right", e.text());
      }
    }
    assertTrue(swapped > 5 && swapped < 35, "about half swapped: " + swapped);
    TaskPreparation<Float> eval = new TaskPreparation<>(FIRST_BYTE, TextOptions.evaluation());
    Example<Float> e1 = eval.apply(loaded(s), new SplittableRandom(1));
    assertEquals(List.of(10f, 11f), e1.media(), "no swap in evaluation");
    try (TensorScope _ = TensorScope.open(); Batch batch = collate(List.of(e1, e1))) {
      assertArrayEquals(new long[] {2, 2, 1}, Tensors.shape(batch.tensor(Batch.IMAGES)));   // [B, k, ...]
      assertArrayEquals(new float[] {10, 11, 10, 11}, Tensors.toFloats(batch.tensor(Batch.IMAGES)));
      assertArrayEquals(new long[] {1, 1}, Tensors.toLongs(batch.tensor(Batch.LABELS)));
    }
  }

  @Test
  void labelsBoxesAndImageOnlySamples() {
    Example<Float> ve = TRAIN.apply(loaded(new SnliVeSample("1.jpg", "A dog.", SnliVeSample.Entailment.ENTAILMENT)),
        new SplittableRandom(0));
    Example<Float> g = TRAIN.apply(loaded(new GroundingSample("2.jpg", "Left DOG", Box.ofXywh(1, 2, 3, 4), 9)),
        new SplittableRandom(0));
    assertEquals("left dog", g.text());
    try (TensorScope _ = TensorScope.open(); Batch vb = collate(List.of(ve)); Batch gb = collate(List.of(g))) {
      assertArrayEquals(new long[] {2}, Tensors.toLongs(vb.tensor(Batch.LABELS)));
      assertArrayEquals(new float[] {1, 2, 3, 4}, Tensors.toFloats(gb.tensor(Batch.BOXES)));
      assertFalse(gb.has(Batch.LABELS));
    }
    Example<Float> image = TRAIN.apply(loaded(new RetrievalEvalSample("3.jpg", List.of("x", "y"), 4, 8)),
        new SplittableRandom(0));
    assertNull(image.text());
    try (TensorScope _ = TensorScope.open(); Batch b = collate(List.of(image))) {
      assertFalse(b.has(Batch.TEXT_IDS));
      assertArrayEquals(new long[] {4}, Tensors.toLongs(b.tensor(Batch.LABELS)));
    }
  }
}
