package dev.mplug.model;

import dev.mplug.nn.ActivationCheckpoint;
import dev.mplug.nn.ActivationCheckpoint.Stack;
import dev.mplug.nn.LambdaResidualBlock;
import dev.mplug.nn.ModuleBase;
import dev.mplug.nn.ResidualAttentionBlock;
import dev.mplug.nn.VisionBlock;
import dev.mplug.profile.Range;
import dev.mplug.torch.TensorScope;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv2dOptions;
import org.bytedeco.pytorch.LayerNormImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.ModuleListImpl;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The CLIP vision transformer as mPLUG uses it ({@code visual_encoder.visual}): patch convolution without bias, class
 * token, learned position table, {@code ln_pre}, pre-LN blocks, and {@code ln_post} over ALL tokens; CLIP's final
 * projection {@code proj} is not applied (and not built). Output [B, 1 + P, width], token 0 the class token.
 */
public final class VisionTransformer extends ModuleBase {
  private final VisionConfig config;
  private final Conv2dImpl conv1;
  private final Tensor classEmbedding;
  private final Tensor positionalEmbedding;
  private final LayerNormImpl lnPre;
  private final List<VisionBlock> blocks = new ArrayList<>();
  private final LayerNormImpl lnPost;

  public VisionTransformer(VisionConfig config) {
    this(config, LambdaConfig.NONE);
  }

  /** With {@code lambda.vision()}, every block's self-attention is a lambda layer ({@link LambdaResidualBlock}). */
  public VisionTransformer(VisionConfig config, LambdaConfig lambda) {
    this.config = config;
    int w = config.width();
    int p = config.patchSize();
    Conv2dOptions conv = new Conv2dOptions(3, w, new LongPointer(p, p));
    conv.stride().put(new long[] {p, p});
    conv.bias().put(false);
    this.conv1 = child(this, "conv1", new Conv2dImpl(conv));
    double scale = 1.0 / Math.sqrt(w);   // CLIP's initial scale of both tables
    this.classEmbedding = parameter(this, "class_embedding", torch.randn(w).mul_(new Scalar(scale)));
    this.positionalEmbedding = parameter(this, "positional_embedding",
        torch.randn(config.tokens(), w).mul_(new Scalar(scale)));
    this.lnPre = layerNorm(this, "ln_pre", w, VisionConfig.LAYER_NORM_EPS);
    Module transformer = container(this, "transformer");
    ModuleListImpl resblocks = list(transformer, "resblocks");
    for (int i = 0; i < config.layers(); i++) {
      ModuleBase block = lambda.vision()
          ? new LambdaResidualBlock(w, config.heads(), config.mlpWidth(), VisionConfig.LAYER_NORM_EPS,
              lambda.keyDepth(), lambda.positionWindow(), config.grid())
          : new ResidualAttentionBlock(w, config.heads(), config.mlpWidth(), VisionConfig.LAYER_NORM_EPS,
              config.attentionDropout());
      resblocks.push_back(block);
      blocks.add((VisionBlock) block);
    }
    this.lnPost = layerNorm(this, "ln_post", w, VisionConfig.LAYER_NORM_EPS);
  }

  /** images [B, 3, R, R] (CLIP-normalised) -> tokens [B, 1 + P, width]. */
  public Tensor forward(Tensor images) {
    return forward(images, null, null);
  }

  /**
   * The same with masked patches (masked vision modeling): where {@code patchMask} [B, P] (bool, patches row by row)
   * is true, the patch embedding is replaced by {@code maskEmbedding} [width] before the position table is added.
   */
  public Tensor forward(Tensor images, Tensor patchMask, Tensor maskEmbedding) {
    requireShape(images, "visual_encoder.visual (images)", -1, 3, config.imageRes(), config.imageRes());
    try (Range r = Range.open("vit"); TensorScope scope = TensorScope.open()) {
      long b = images.size(0);
      int w = config.width();
      Tensor patches = conv1.forward(images).flatten(2, -1).transpose(1, 2);   // [B, P, W], grid read row by row
      if (patchMask != null) {
        requireShape(patchMask, "visual_encoder.visual (patch mask)", b, config.numPatches());
        patches = torch.where(patchMask.unsqueeze(-1), maskEmbedding.view(1, 1, w), patches);
      }
      Tensor cls = classEmbedding.view(1, 1, w).expand(b, 1, w);                // [B, 1, W]
      Tensor x = torch.cat(new TensorVector(cls, patches), 1)                   // [B, 1 + P, W]
          .add(positionalEmbedding);
      x = lnPre.forward(x);
      for (VisionBlock block : blocks) {
        x = ActivationCheckpoint.runLayer(Stack.VISION, in -> block.forward(in.get(0)), x);   // [B, 1 + P, W]
      }
      return scope.keep(lnPost.forward(x));
    }
  }

  public VisionConfig config() {
    return config;
  }
}
