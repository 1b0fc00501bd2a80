package dev.mplug.eval;

import dev.mplug.loss.MaskedLanguageModeling;
import dev.mplug.model.MPlug;
import dev.mplug.model.SkipConnectedFusion;
import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.GeneratorStates;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import dev.mplug.torch.TorchRuntime;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * MLM accuracy: the share of masked caption tokens the model restores (argmax of the LM head on the fusion text
 * stream), with a masking drawn from a fixed seed so before/after comparisons see the same masks. libtorch's
 * generator state is restored afterwards, so evaluating never changes a training run.
 */
public final class MaskedTokenAccuracy {
  private MaskedTokenAccuracy() {}

  /** Correct and total masked tokens. */
  public record Result(long correct, long total) {
    public double percent() {
      return total == 0 ? 0 : 100.0 * correct / total;
    }
  }

  public static Result compute(MPlug model, Tensor images, Tensor ids, Tensor mask, long vocab, long pad, long cls,
      long maskId, long seed) {
    ComputeDevice device = model.device();
    GeneratorStates generators = GeneratorStates.capture(device);
    boolean wasTraining = model.is_training();
    model.eval();
    try (NoGradGuard guard = new NoGradGuard(); TensorScope scope = TensorScope.open()) {
      TorchRuntime.seed(seed);
      Tensor keep = device.to(mask);
      // drawn from the CPU generator and moved: the same masks on either device
      MaskedLanguageModeling.Masked m = MaskedLanguageModeling.mask(device.to(ids), vocab, pad, cls, maskId, 0.15);
      Tensor vision = model.visionEmbeds(model.visionTokens(device.to(images)));
      Tensor text = model.textEmbeds(m.inputIds(), keep);
      SkipConnectedFusion.Output fused = model.fuse(text, keep, vision, MPlug.imageMask(vision));
      long[] predicted = Tensors.toLongs(model.decoder().lmLogits(fused.text()).argmax(
          new LongOptional(-1), false));
      long[] labels = Tensors.toLongs(m.labels());
      long correct = 0;
      long total = 0;
      for (int i = 0; i < labels.length; i++) {
        if (labels[i] == -100) continue;
        total++;
        if (predicted[i] == labels[i]) correct++;
      }
      return new Result(correct, total);
    } finally {
      model.train(wasTraining);
      generators.restore();
    }
  }
}
