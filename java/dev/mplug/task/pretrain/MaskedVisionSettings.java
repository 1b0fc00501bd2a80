package dev.mplug.task.pretrain;

import dev.mplug.loss.MaskedVisionModeling.MaskShape;
import dev.mplug.loss.MaskedVisionModeling.Target;

/**
 * The settings of the optional masked-vision-modeling objective ({@link dev.mplug.loss.MaskedVisionModeling}): its
 * loss weight (0 = off, the published recipe), the share of patches masked, their layout and the target.
 */
public record MaskedVisionSettings(double weight, double maskRatio, MaskShape shape, Target target) {
  /** No masked vision modeling. */
  public static final MaskedVisionSettings OFF =
      new MaskedVisionSettings(0, 0.4, MaskShape.BLOCK, Target.MOMENTUM_FEATURES);

  public MaskedVisionSettings {
    if (!(weight >= 0 && Double.isFinite(weight))) {
      throw new IllegalArgumentException("objectives.mvm_weight = " + weight + ": must be >= 0");
    }
    if (!(maskRatio > 0 && maskRatio < 1)) {
      throw new IllegalArgumentException("objectives.mvm_mask_ratio = " + maskRatio + ": must be in (0, 1)");
    }
    if (shape == null) throw new IllegalArgumentException("objectives.mvm_mask is missing");
    if (target == null) throw new IllegalArgumentException("objectives.mvm_target is missing");
  }

  public boolean on() {
    return weight > 0;
  }

  /** The layout by its config name: "random" or "block". */
  public static MaskShape shape(String name) {
    return switch (name) {
      case "random" -> MaskShape.RANDOM;
      case "block" -> MaskShape.BLOCK;
      default -> throw new IllegalArgumentException("objectives.mvm_mask = \"" + name + "\": use random or block");
    };
  }

  /** The target by its config name: "pixels" or "momentum_features". */
  public static Target target(String name) {
    return switch (name) {
      case "pixels" -> Target.PIXELS;
      case "momentum_features" -> Target.MOMENTUM_FEATURES;
      default -> throw new IllegalArgumentException(
          "objectives.mvm_target = \"" + name + "\": use pixels or momentum_features");
    };
  }
}
