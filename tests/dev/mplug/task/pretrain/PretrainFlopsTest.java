package dev.mplug.task.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mplug.model.MPlugConfig;
import dev.mplug.model.TextConfig;
import dev.mplug.model.VisionConfig;
import org.junit.jupiter.api.Test;

/**
 * The fusion FLOP count against a hand count for a tiny config (hidden 8, FFN 16, 4 text tokens, 5 visual tokens,
 * 6 fusion layers), counting 2 FLOPs per multiply-add of every matmul.
 */
class PretrainFlopsTest {
  private static final double T = 4;    // text tokens
  private static final double NV = 5;   // visual tokens (a 2x2 patch grid + the class token)

  private static TextConfig text(int stride) {
    return new TextConfig(8, 2, 16, 128, 16, 2, 1e-12, 0.0, 0.0, 1, 6, stride, 1, 0);   // vocab fits tiny()'s ids
  }

  // Co-attention layer (text only):
  //   self-attention  q, k, v, out projections of 4 tokens: 4 x (2 * 4 * 8 * 8)      = 2048
  //                   scores 4x4 and weighted sum:          2 x (2 * 4 * 4 * 8)      =  512
  //   cross-attention q, out projections of 4 text tokens:  2 x (2 * 4 * 8 * 8)      = 1024
  //                   k, v projections of 5 image tokens:   2 x (2 * 5 * 8 * 8)      = 1280
  //                   scores 4x5 and weighted sum:          2 x (2 * 4 * 5 * 8)      =  640
  //   FFN 8 -> 16 -> 8 on 4 tokens:                         2 x (2 * 4 * 8 * 16)     = 2048
  private static final double CO = 2048 + 512 + 1024 + 1280 + 640 + 2048;   // 7552
  // Connected-attention layer (all 9 tokens, no cross-attention):
  //   q, k, v, out projections of 9 tokens:                 4 x (2 * 9 * 8 * 8)      = 4608
  //   scores 9x9 and weighted sum:                          2 x (2 * 9 * 9 * 8)      = 2592
  //   FFN on 9 tokens:                                      2 x (2 * 9 * 8 * 16)     = 4608
  private static final double CONNECTED = 4608 + 2592 + 4608;               // 11808

  @Test
  void layerCountsMatchTheHandCount() {
    assertEquals(7552, CO, 0.0);
    assertEquals(11808, CONNECTED, 0.0);
    assertEquals(CO, PretrainFlops.coAttentionLayer(text(3), T, NV), 0.0);
    assertEquals(CONNECTED, PretrainFlops.connectedAttentionLayer(text(3), T, NV), 0.0);
  }

  @Test
  void fusionCountsEachLayerAsWhatItIs() {
    // stride 1: layer 0 co-attention, layers 1..5 connected
    assertEquals(1 * CO + 5 * CONNECTED, PretrainFlops.fusion(text(1), T, NV), 0.0);   // 66592
    // stride 3 (mPLUG-base): co, co, co, CONNECTED, co, co
    assertEquals(5 * CO + 1 * CONNECTED, PretrainFlops.fusion(text(3), T, NV), 0.0);   // 49568
    // stride 6 (the large configs): six co-attention layers
    assertEquals(6 * CO, PretrainFlops.fusion(text(6), T, NV), 0.0);                    // 45312
  }

  @Test
  void theEstimateCarriesTheFusionDifference() {
    // ITM only: three fusion passes (positive, two negatives) of the online model, each x3 for forward + backward
    Objectives itm = Objectives.builder().itc(false).mlm(false).prefixLm(false).queueSize(8).build();
    VisionConfig vision = new VisionConfig(4, 2, 8, 1, 2, 4, 0.0);   // 2x2 patches + class token = 5 tokens
    MPlugConfig one = MPlugConfig.tiny().withVision(vision).withText(text(1));
    MPlugConfig six = MPlugConfig.tiny().withVision(vision).withText(text(6));
    double difference = PretrainFlops.estimate(one, (int) T, itm) - PretrainFlops.estimate(six, (int) T, itm);
    assertEquals(3 * 3 * (5 * CONNECTED - 5 * CO), difference, 1e-6);                  // 191520
  }

  @Test
  void mplugBaseMatchesTheSpecsFusionCost() {
    // MPLUG-SPEC: with 257 visual and 25 text tokens the fusion costs about 9.4 GFLOPs at S = 3, and about 25.4 for
    // six connected layers
    assertEquals(9.4e9, PretrainFlops.fusion(TextConfig.bertBase(3), 25, 257), 0.1e9);
    assertEquals(25.4e9, 6 * PretrainFlops.connectedAttentionLayer(TextConfig.bertBase(3), 25, 257), 0.1e9);
  }
}
