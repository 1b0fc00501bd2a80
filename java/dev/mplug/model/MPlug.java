package dev.mplug.model;

import dev.mplug.nn.ModuleBase;
import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.LayerNormImpl;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * mPLUG: CLIP vision transformer, BERT text encoder, skip-connected fusion network, decoder, and the ITC/ITM heads,
 * with the task-level computations of the official fine-tune models (VQA, captioning, retrieval). Which parts exist
 * is {@link MPlugConfig#parts()}; parameter names are the official ones (see the parameter-name contract), so
 * optimizer groups and checkpoints address them by name.
 *
 * <pre>
 * image -> ViT -> ln_post (all tokens) [-> visn_fc -> LayerNorm 1e-12 -> Dropout]  = V0 [B, Nv, H]
 * text  -> BERT text encoder                                                         = L0 [B, T, H]
 * (V0, L0) -> skip-connected fusion                                                  = (V, L)
 * decoder: causal self-attn, cross-attn to [V; L] (VQA) or V0 (captioning) -> tied LM head
 * </pre>
 */
public final class MPlug extends ModuleBase {
  private final MPlugConfig config;
  private final VisionTransformer vision;
  private final LinearImpl visnFc;
  private final LayerNormImpl visnLayerNorm;
  private final TextEncoder textEncoder;
  private final SkipConnectedFusion fusion;
  private final TextDecoder decoder;
  private final LinearImpl visionProj;
  private final LinearImpl textProj;
  private final LinearImpl itmHead;
  private final Tensor temp;

  public MPlug(MPlugConfig config) {
    this.config = config;
    TextConfig t = config.text();
    int h = t.hidden();
    boolean visionPart = config.has(Part.VISION);
    boolean large = visionPart && config.largeProjection();
    this.vision = visionPart ? child(container(this, "visual_encoder"), "visual",
        new VisionTransformer(config.vision(), config.lambda())) : null;
    this.visnFc = large ? linear(this, "visn_fc", config.vision().width(), h, true) : null;
    this.visnLayerNorm = large ? layerNorm(this, "visn_layer_norm", h, 1e-12) : null;
    this.textEncoder = config.has(Part.TEXT_ENCODER) ? child(this, "text_encoder", new TextEncoder(t)) : null;
    this.fusion = config.has(Part.FUSION)
        ? child(this, "fusion_encoder", new SkipConnectedFusion(t, config.lambda())) : null;
    this.decoder = config.has(Part.DECODER) ? child(this, "text_decoder", new TextDecoder(t)) : null;
    boolean heads = config.has(Part.ITC_ITM_HEADS);
    this.visionProj = heads ? linear(this, "vision_proj", h, config.embedDim(), true) : null;
    this.textProj = heads ? linear(this, "text_proj", h, config.embedDim(), true) : null;
    this.itmHead = heads ? linear(this, "itm_head", h, 2, true) : null;
    this.temp = heads ? parameter(this, "temp", torch.full(new long[] {}, new Scalar(config.temp()))) : null;
    if (config.has(Part.MOMENTUM)) buildMomentumTwins(config, large, heads);
  }

  /** The *_m twins (same shapes and names with {@code _m} on the top-level module); updated by EMA, not by SGD. */
  private void buildMomentumTwins(MPlugConfig c, boolean large, boolean heads) {
    TextConfig t = c.text();
    child(container(this, "visual_encoder_m"), "visual", new VisionTransformer(c.vision(), c.lambda()));
    if (large) {
      linear(this, "visn_fc_m", c.vision().width(), t.hidden(), true);
      layerNorm(this, "visn_layer_norm_m", t.hidden(), 1e-12);
    }
    if (c.has(Part.TEXT_ENCODER)) child(this, "text_encoder_m", new TextEncoder(t));
    if (c.has(Part.FUSION)) child(this, "fusion_encoder_m", new SkipConnectedFusion(t, c.lambda()));
    if (heads) {
      linear(this, "vision_proj_m", t.hidden(), c.embedDim(), true);
      linear(this, "text_proj_m", t.hidden(), c.embedDim(), true);
    }
  }

  public MPlugConfig config() {
    return config;
  }

  /**
   * Where the model's parameters live: the device its inputs must be on (the heads put them there), read from the
   * parameters themselves, so it follows an in-place move ({@link #moveTo}, the trainer's).
   */
  public ComputeDevice device() {
    try (TensorVector parameters = parameters(true)) {
      return parameters.size() == 0 ? ComputeDevice.CPU : ComputeDevice.of(parameters.get(0));
    }
  }

  /**
   * Moves every parameter to {@code device} in place (every handle on a parameter, a head's or an optimizer's, then
   * refers to the device's copy); a parameter already there is left as it is.
   */
  public void moveTo(ComputeDevice device) {
    namedParameters().values().forEach(device::moveInPlace);
  }

  // ---------------------------------------------------------------------------------------------- encoders

  /** The ViT output: images [B, 3, R, R] -> ln_post over all tokens [B, Nv, vision width]. */
  public Tensor visionTokens(Tensor images) {
    return require(vision, Part.VISION).forward(images);
  }

  /** {@link #visionTokens(Tensor)} with the patches where {@code patchMask} [B, P] is true replaced by a mask embedding. */
  public Tensor visionTokens(Tensor images, Tensor patchMask, Tensor maskEmbedding) {
    return require(vision, Part.VISION).forward(images, patchMask, maskEmbedding);
  }

  /** What the rest of the model sees: the ViT tokens, projected to the text width for the large model [B, Nv, H]. */
  public Tensor visionEmbeds(Tensor vitOutput) {
    if (visnFc == null) return vitOutput;
    requireShape(vitOutput, "visn_fc (ViT tokens)", -1, -1, config.vision().width());
    return dropout(visnLayerNorm.forward(visnFc.forward(vitOutput)), config.text().hiddenDropout());
  }

  /** Text encoder: ids [B, T], mask [B, T] -> L0 [B, T, H]. */
  public Tensor textEmbeds(Tensor ids, Tensor mask) {
    return require(textEncoder, Part.TEXT_ENCODER).forward(ids, mask);
  }

  /** The skip-connected fusion of L0 [B, T, H] (mask [B, T]) and V0 [B, Nv, H] (mask [B, Nv]). */
  public SkipConnectedFusion.Output fuse(Tensor textEmbeds, Tensor textMask, Tensor visionEmbeds, Tensor imageMask) {
    return require(fusion, Part.FUSION).forward(textEmbeds, textMask, visionEmbeds, imageMask);
  }

  public TextDecoder decoder() {
    return require(decoder, Part.DECODER);
  }

  /** An all-ones keep-mask [B, N] for the image tokens of {@code embeds} [B, N, *]. */
  public static Tensor imageMask(Tensor embeds) {
    return torch.ones(new long[] {embeds.size(0), embeds.size(1)}, embeds.options()).to(torch.ScalarType.Long);
  }

  // ---------------------------------------------------------------------------------------------- ITC / ITM

  /** L2-normalised {@code vision_proj} of the vision CLS token: V0 [B, Nv, H] -> [B, E]. */
  public Tensor imageFeatures(Tensor visionEmbeds) {
    return Tensors.l2Normalize(require(visionProj, Part.ITC_ITM_HEADS).forward(visionEmbeds.select(1, 0)), -1);
  }

  /** L2-normalised {@code text_proj} of the text CLS token: L0 [B, T, H] -> [B, E]. */
  public Tensor textFeatures(Tensor textEmbeds) {
    return Tensors.l2Normalize(require(textProj, Part.ITC_ITM_HEADS).forward(textEmbeds.select(1, 0)), -1);
  }

  /** {@code a b^T / temp}: [N, E] x [M, E] -> [N, M] (image-to-text with a = image features, and the reverse). */
  public Tensor similarity(Tensor a, Tensor b) {
    return torch.matmul(a, b.t()).div(require(temp, Part.ITC_ITM_HEADS));
  }

  /** The learned temperature (0-dim). */
  public Tensor temperature() {
    return require(temp, Part.ITC_ITM_HEADS);
  }

  /**
   * Clamps the learned temperature in place to [{@link MPlugConfig#MIN_TEMPERATURE},
   * {@link MPlugConfig#MAX_TEMPERATURE}], as the official training does; the one clamp of the code base (pretraining
   * applies it before each step's losses and after each optimizer step).
   */
  public void clampTemperature() {
    try (NoGradGuard _ = new NoGradGuard()) {
      require(temp, Part.ITC_ITM_HEADS).clamp_(new ScalarOptional(new Scalar(MPlugConfig.MIN_TEMPERATURE)),
          new ScalarOptional(new Scalar(MPlugConfig.MAX_TEMPERATURE)));
    }
  }

  /** ITM logits [B, 2] from the fusion text stream's CLS token (column 1 = "match"). */
  public Tensor itmLogits(Tensor fusionText) {
    return require(itmHead, Part.ITC_ITM_HEADS).forward(fusionText.select(1, 0));
  }

  // ---------------------------------------------------------------------------------------------- VQA

  /**
   * The encoder states the answer decoder reads for each question: [V; L] of the fusion output [B, Nv + T, H] and
   * the mask [ones(Nv); question mask] [B, Nv + T].
   */
  public static Tensor[] questionStates(SkipConnectedFusion.Output fused, Tensor questionMask) {
    Tensor states = torch.cat(new TensorVector(fused.image(), fused.text()), 1);            // [B, Nv + T, H]
    Tensor mask = torch.cat(new TensorVector(imageMask(fused.image()), questionMask.to(torch.ScalarType.Long)), 1);
    return new Tensor[] {states, mask};
  }

  // ---------------------------------------------------------------------------------------------- weights

  /** Every parameter by name, in registration order (the names of the parameter-name contract). */
  public Map<String, Tensor> namedParameters() {
    return namedParameters(this);
  }

  /** {@code module.named_parameters()} as a Java map (name -> a handle on the parameter itself, not a copy). */
  public static Map<String, Tensor> namedParameters(Module module) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    try (StringTensorDict dict = module.named_parameters()) {
      // new handles: value() points into the dict, which is freed here
      for (long i = 0; i < dict.size(); i++) out.put(dict.get(i).key().getString(), new Tensor(dict.get(i).value()));
    }
    return out;
  }

  /**
   * Copies {@code weights} into the parameters of the same names (shapes must match; dtypes are converted).
   *
   * @param strict fail when a parameter is not given or a given name is not a parameter
   * @return the names of parameters that were not given (empty when strict)
   */
  public List<String> load(Map<String, Tensor> weights, boolean strict) {
    return load(this, weights, strict);
  }

  /** {@link #load(Map, boolean)} for any module. */
  public static List<String> load(Module module, Map<String, Tensor> weights, boolean strict) {
    Map<String, Tensor> params = namedParameters(module);
    List<String> unexpected = weights.keySet().stream().filter(k -> !params.containsKey(k)).sorted().toList();
    List<String> missing = params.keySet().stream().filter(k -> !weights.containsKey(k)).toList();
    if (strict && (!unexpected.isEmpty() || !missing.isEmpty())) {
      throw new IllegalArgumentException("weights do not match the model: missing " + missing + ", unexpected "
          + unexpected);
    }
    try (NoGradGuard _ = new NoGradGuard(); TensorScope _ = TensorScope.open()) {
      for (Map.Entry<String, Tensor> e : params.entrySet()) {
        Tensor src = weights.get(e.getKey());
        if (src == null) continue;
        long[] want = Tensors.shape(e.getValue());
        long[] got = Tensors.shape(src);
        if (!Arrays.equals(want, got)) {
          throw new IllegalArgumentException(e.getKey() + ": the model expects shape " + Arrays.toString(want)
              + ", the weights have " + Arrays.toString(got));
        }
        e.getValue().copy_(src.to(e.getValue().scalar_type()));
      }
    }
    return missing;
  }

  private static <T> T require(T part, Part which) {
    if (part == null) throw new IllegalStateException("this model was built without " + which);
    return part;
  }
}
