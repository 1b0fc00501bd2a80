package dev.mplug.train;

import static dev.mplug.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** Our AdamW (state as named tensors, for exact checkpoints) against libtorch's torch::optim::AdamW. */
class AdamWTest {
  @Test
  void matchesLibtorchAdamWOverSeveralSteps() {
    Seeds.fresh("matchesLibtorchAdamWOverSeveralSteps");
    try (TensorScope scope = TensorScope.open()) {
      Tensor init = torch.randn(5, 3);
      Tensor a = init.clone().requires_grad_(true);
      Tensor b = init.clone().requires_grad_(true);
      Map<String, Tensor> params = new LinkedHashMap<>();
      params.put("w", a);
      AdamW ours = new AdamW(params, 0.9, 0.999, 1e-8);
      ours.addGroup("all", List.of("w"), 1e-2, 0.05);
      AdamWOptions opts = new AdamWOptions(1e-2);
      opts.weight_decay().put(0.05);
      opts.eps().put(1e-8);
      org.bytedeco.pytorch.AdamW theirs = new org.bytedeco.pytorch.AdamW(new TensorVector(b), opts);
      for (int step = 0; step < 4; step++) {
        Tensor target = torch.randn(5, 3);
        torch.mse_loss(a, target).backward();
        torch.mse_loss(b, target).backward();
        ours.step();
        ours.zeroGrad();
        theirs.step();
        theirs.zero_grad();
        assertClose(b.detach(), a.detach(), 1e-6, "after step " + (step + 1));
      }
      assertFalse(a.grad().defined(), "zeroGrad leaves no gradient");
      ours.close();
    }
  }
}
