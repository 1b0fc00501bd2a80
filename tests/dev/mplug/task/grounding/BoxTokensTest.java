package dev.mplug.task.grounding;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.text.Vocabulary;
import dev.mplug.data.text.VocabularyBuilder;
import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The coordinate tokens: ids from a bert-base layout, quantisation, decoding, the logit mask, bad vocabularies. */
class BoxTokensTest {
  static Vocabulary bertLayout() {
    return Vocabulary.of(new VocabularyBuilder().bertUnused(true).addAll(List.of("red", "circle")).tokens());
  }

  @Test
  void bertBaseLayoutPutsTheBoxTokensAt344To681() {
    BoxTokens t = BoxTokens.of(bertLayout());
    assertEquals(344, t.startId());      // [unused339]
    assertEquals(345, t.firstBinId());   // [unused340]
    assertEquals(681, t.lastBinId());    // [unused676]
  }

  @Test
  void encodeFloorsClampedCoordinatesTimes336() {
    BoxTokens t = new BoxTokens(10, 20);
    // 0 -> 0; 0.0029 x 336 = 0.97 -> 0; 0.003 x 336 = 1.008 -> 1; 0.5 -> 168; 0.999 -> 335.66 -> 335; 1 -> 336;
    // clamped: 1.5 -> 336, -0.2 -> 0
    float[] c = {0f, 0.0029f, 0.003f, 0.5f, 0.999f, 1f, 1.5f, -0.2f};
    long[] ids = Tensors.toLongs(t.encode(Tensors.floats(c, 2, 4)));
    assertArrayEquals(new long[] {20, 20, 21, 188, 355, 356, 356, 20}, ids);
  }

  @Test
  void decodeIsTheBinsLowerEdge() {
    BoxTokens t = new BoxTokens(10, 20);
    float[] c = Tensors.toFloats(t.decode(Tensors.longs(new long[] {20, 188, 104, 356}, 1, 4)));
    assertArrayEquals(new float[] {0f, 0.5f, 0.25f, 1f}, c, 0f);
  }

  @Test
  void logitMaskOpensOnlyTheBinTokens() {
    BoxTokens t = new BoxTokens(10, 20);
    float[] mask = Tensors.toFloats(t.logitMask(400, Tensors.floats(new float[] {0f}, 1)));
    assertEquals(400, mask.length);
    for (int i = 0; i < 400; i++) assertEquals(i >= 20 && i <= 356 ? 0f : -10000f, mask[i], "id " + i);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> t.logitMask(356, Tensors.floats(new float[] {0f}, 1)));
    assertTrue(e.getMessage().contains("[unused676]"), e.getMessage());
  }

  @Test
  void argmaxLooksAtTheBinTokensOnly() {
    BoxTokens t = new BoxTokens(0, 2);
    float[] logits = new float[400];
    logits[1] = 50f;     // the start token: not a coordinate
    logits[399] = 40f;   // past the last bin
    logits[2 + 7] = 3f;  // bin 7
    assertArrayEquals(new long[] {9}, Tensors.toLongs(t.argmax(Tensors.floats(logits, 1, 400))));
  }

  @Test
  void aVocabularyWithoutTheTokensIsRefused() {
    Vocabulary small = Vocabulary.of(new VocabularyBuilder().addAll(List.of("red")).tokens());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BoxTokens.of(small));
    assertEquals("the vocabulary has no [unused339] (grounding's start token)", e.getMessage());

    List<String> tokens = new ArrayList<>(new VocabularyBuilder().bertUnused(true).tokens());
    tokens.set(tokens.indexOf("[unused500]"), "[unused999]");
    e = assertThrows(IllegalArgumentException.class, () -> BoxTokens.of(Vocabulary.of(tokens)));
    assertTrue(e.getMessage().startsWith("the vocabulary does not hold [unused500] at id 505"), e.getMessage());
  }
}
