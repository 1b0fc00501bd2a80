package dev.mplug.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;

/**
 * Initialises mPLUG's vision encoder from an OpenAI CLIP state dict, as the official {@code initialize_clip} does:
 * CLIP's {@code visual.*} become {@code visual_encoder.visual.*} (and the momentum twin {@code visual_encoder_m}
 * when the model has one, which the official code fills by copying the online encoder). The position table is
 * resampled to the model's grid when the resolution differs; {@code visual.proj} and the text tower are not used.
 *
 * <p>One difference from the official code, on purpose: {@code initialize_clip} assigns the resized table to an
 * attribute ({@code pos_embed.weight = ...}) instead of the parameter, so officially the table starts at zero; here it
 * starts from CLIP's table, as intended. Fine-tuning from an mPLUG checkpoint overwrites it either way.
 *
 * <p>The input is a state dict (torch.save zip or legacy format, or safetensors). OpenAI's downloadable
 * {@code ViT-B-16.pt} is a TorchScript archive, which the reader refuses with a message saying so; its state dict is
 * {@code torch.save(torch.jit.load(f, map_location='cpu').state_dict(), out)} in Python.
 */
public final class ClipWeights {
  private static final Set<String> TEXT_TOWER_TOPS =
      Set.of("positional_embedding", "text_projection", "logit_scale", "token_embedding", "transformer", "ln_final");
  private static final Set<String> ARCHIVE_METADATA = Set.of("input_resolution", "context_length", "vocab_size");
  private static final String[] ENCODERS = {"visual_encoder.", "visual_encoder_m."};

  private ClipWeights() {}

  public static LoadReport load(Path clipFile, Map<String, Tensor> target, boolean strict) throws IOException {
    try (StateDict clip = CheckpointFiles.read(clipFile)) {
      return load(clip, target, strict);
    }
  }

  /**
   * Copies CLIP's vision weights into {@code target} (a model's named parameters). Only the vision encoder's
   * parameters ({@code visual_encoder[_m].visual.*}) can be missing; the rest of the model is not this load's business.
   */
  public static LoadReport load(StateDict clip, Map<String, Tensor> target, boolean strict) {
    LoadPlan plan = new LoadPlan(clip.origin(), target);
    plan.responsibleFor(name -> name.startsWith("visual_encoder.visual.") || name.startsWith("visual_encoder_m.visual."));
    for (String key : clip.keys()) {
      String top = key.contains(".") ? key.substring(0, key.indexOf('.')) : key;
      if (key.equals("visual.proj")) {
        plan.ignore(Rule.CLIP_PROJ, key);
      } else if (top.equals("visual")) {
        boolean placed = false;
        for (String encoder : ENCODERS) {
          String name = encoder + key;
          if (!plan.hasTarget(name)) continue;
          if (key.equals("visual.positional_embedding")) plan.loadPositionTable(key, clip.get(key), name);
          else plan.load(key, clip.get(key), name);
          placed = true;
        }
        if (!placed) plan.unexpected(key);
      } else if (TEXT_TOWER_TOPS.contains(top)) {
        plan.ignore(Rule.CLIP_TEXT_TOWER, key);
      } else if (ARCHIVE_METADATA.contains(key)) {
        plan.ignore(Rule.CLIP_METADATA, key);
      } else {
        plan.unexpected(key);
      }
    }
    return plan.execute(strict);
  }
}
