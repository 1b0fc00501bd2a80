package dev.mplug.model;

import static dev.mplug.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** Causal and padding masks of the decoder, and the key/value cache against whole-sequence decoding. */
class TextDecoderTest {
  private static final TextConfig TEXT = MPlugConfig.tiny().text();

  @Test
  void cachedStepsEqualWholeSequenceLogits() {
    Seeds.fresh("decoder cache");
    TextDecoder decoder = new TextDecoder(TEXT);
    decoder.eval();
    try (TensorScope _ = TensorScope.open()) {
      Tensor memory = torch.randn(2, 6, 32);
      Tensor memoryMask = Tensors.longs(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, 2, 6);
      Tensor ids = Tensors.longs(new long[] {101, 7, 9, 30, 4, 101, 55, 3, 8, 102}, 2, 5);
      Tensor full = decoder.forward(ids, null, memory, memoryMask);                  // [2, 5, V]
      try (DecoderCache cache = decoder.startCache(memory, memoryMask)) {
        // a two-token prompt first (causal inside the chunk), then one token at a time
        assertClose(full.select(1, 1), decoder.step(ids.narrow(1, 0, 2), cache), 1e-5, "prompt step");
        for (int t = 2; t < 5; t++) {
          assertClose(full.select(1, t), decoder.step(ids.narrow(1, t, 1), cache), 1e-5, "step " + t);
        }
      }
    }
  }

  @Test
  void laterAndPaddedTokensDoNotChangeEarlierLogits() {
    Seeds.fresh("decoder masks");
    TextDecoder decoder = new TextDecoder(TEXT);
    decoder.eval();
    try (TensorScope _ = TensorScope.open()) {
      Tensor memory = torch.randn(1, 4, 32);
      Tensor memoryMask = torch.ones(1, 4).to(torch.ScalarType.Long);
      Tensor a = Tensors.longs(new long[] {101, 7, 9, 102, 0, 0}, 1, 6);
      Tensor b = Tensors.longs(new long[] {101, 7, 9, 102, 77, 5}, 1, 6);
      Tensor mask = Tensors.longs(new long[] {1, 1, 1, 1, 0, 0}, 1, 6);
      Tensor la = decoder.forward(a, mask, memory, memoryMask);
      Tensor lb = decoder.forward(b, mask, memory, memoryMask);
      assertClose(la.narrow(1, 0, 4), lb.narrow(1, 0, 4), 1e-6, "real positions ignore padding ids");
      Tensor c = Tensors.longs(new long[] {101, 7, 50, 60, 70, 80}, 1, 6);
      Tensor lc = decoder.forward(c, null, memory, memoryMask);
      Tensor ld = decoder.forward(b, null, memory, memoryMask);
      assertClose(lc.narrow(1, 0, 2), ld.narrow(1, 0, 2), 1e-6, "causal: positions 0, 1 see only ids 0, 1");
      assertTrue(lc.select(1, 2).sub(ld.select(1, 2)).abs().max().item_double() > 1e-4, "position 2 sees id 2");
      // a masked encoder key gets no weight either
      Tensor memory2 = memory.clone();
      memory2.select(1, 3).fill_(new Scalar(50));
      Tensor half = Tensors.longs(new long[] {1, 1, 1, 0}, 1, 4);
      assertClose(decoder.forward(a, mask, memory, half), decoder.forward(a, mask, memory2, half), 1e-6,
          "masked encoder position");
    }
  }
}
