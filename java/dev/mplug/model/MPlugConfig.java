package dev.mplug.model;

import static dev.mplug.model.ConfigChecks.below;
import static dev.mplug.model.ConfigChecks.positive;

import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The whole model's sizes: vision transformer, BERT side, contrastive/matching heads and decoding defaults.
 * The vision stream is projected to the text width ({@code visn_fc} + LayerNorm + dropout) exactly when the widths
 * differ ({@link #largeProjection()}), as the official code decides it.
 *
 * @param embedDim width of the ITC projections {@code vision_proj} / {@code text_proj}
 * @param temp initial ITC temperature (learned; clamped to [0.001, 0.5] in training)
 * @param parts which parts are built (see {@link Part}); the momentum twins only where {@link Part#MOMENTUM} is given
 * @param lambda where lambda layers replace attention over the visual sequence ({@link LambdaConfig#NONE}: nowhere)
 */
public record MPlugConfig(VisionConfig vision, TextConfig text, int embedDim, double temp,
    GenerationConfig generation, Set<Part> parts, LambdaConfig lambda) {
  /** The official training range of the learned ITC temperature ({@link MPlug#clampTemperature}). */
  public static final double MIN_TEMPERATURE = 0.001;
  public static final double MAX_TEMPERATURE = 0.5;

  public MPlugConfig {
    if (vision == null) throw new IllegalArgumentException("vision is missing");
    if (text == null) throw new IllegalArgumentException("text is missing");
    if (generation == null) throw new IllegalArgumentException("generation is missing");
    if (parts == null || parts.isEmpty()) throw new IllegalArgumentException("parts is empty");
    if (lambda == null) throw new IllegalArgumentException("lambda is missing");
    parts = Set.copyOf(parts);
    requires(parts, Part.FUSION, Part.TEXT_ENCODER);
    requires(parts, Part.FUSION, Part.VISION);
    requires(parts, Part.DECODER, Part.VISION);
    requires(parts, Part.ITC_ITM_HEADS, Part.FUSION);
    requires(parts, Part.MOMENTUM, Part.VISION);
    positive("heads.embed_dim", embedDim);
    if (!(temp >= MIN_TEMPERATURE && temp <= MAX_TEMPERATURE)) {
      throw new IllegalArgumentException("heads.temp must be in [" + MIN_TEMPERATURE + ", " + MAX_TEMPERATURE
          + "] (the training clamp), got " + temp);
    }
    below("generation.start_token", generation.startToken(), "text.vocab_size", text.vocab());
    below("generation.end_token", generation.endToken(), "text.vocab_size", text.vocab());
  }

  /** The published model's layers (no lambda layers). */
  public MPlugConfig(VisionConfig vision, TextConfig text, int embedDim, double temp, GenerationConfig generation,
      Set<Part> parts) {
    this(vision, text, embedDim, temp, generation, parts, LambdaConfig.NONE);
  }

  /** A small model for tests: 32 px images, width 32, two layers everywhere, three fusion layers with stride 2. */
  public static MPlugConfig tiny() {
    return new MPlugConfig(new VisionConfig(32, 8, 32, 2, 4, 4, 0.1),
        new TextConfig(32, 4, 64, 128, 32, 2, 1e-12, 0.1, 0.1, 2, 3, 2, 2, 0), 16, 0.07,
        new GenerationConfig(3, 1, 5, 101, 102, 0.6), Part.all());
  }

  /** mPLUG-base: ViT-B/16 at 384 px, BERT-base split 6/6/12, fusion stride 3 (one connected layer). */
  public static MPlugConfig base() {
    return new MPlugConfig(VisionConfig.vitB16(), TextConfig.bertBase(3), 256, 0.07, GenerationConfig.vqa(),
        Part.all());
  }

  /** mPLUG-large: ViT-L/14 at 336 px projected 1024 -> 768, BERT-base split 6/6/12, stride 6 (no connected layer). */
  public static MPlugConfig large() {
    return new MPlugConfig(VisionConfig.vitL14(), TextConfig.bertBase(6), 256, 0.07, GenerationConfig.vqa(),
        Part.all());
  }

  /** A named preset: tiny, base or large. */
  public static MPlugConfig preset(String name) {
    return switch (name) {
      case "tiny" -> tiny();
      case "base" -> base();
      case "large" -> large();
      default -> throw new IllegalArgumentException("preset \"" + name + "\" is unknown (tiny, base, large)");
    };
  }

  /** Reads a config file in protobuf text format (see {@code java/proto/mplug/model_config.proto}). */
  public static MPlugConfig read(Path file) throws IOException {
    return ConfigFile.read(file);
  }

  /** The model sizes a reference fixture's {@code config.json} describes. */
  public static MPlugConfig fromFixtureJson(Path configJson) throws IOException {
    return FixtureConfig.read(configJson).model();
  }

  /** Whether the vision stream goes through {@code visn_fc} + {@code visn_layer_norm} (vision width != hidden). */
  public boolean largeProjection() {
    return vision.width() != text.hidden();
  }

  public boolean has(Part part) {
    return parts.contains(part);
  }

  public MPlugConfig withParts(Set<Part> p) {
    return new MPlugConfig(vision, text, embedDim, temp, generation, p, lambda);
  }

  /** The same config with {@code extra} parts added. */
  public MPlugConfig plus(Part... extra) {
    EnumSet<Part> p = EnumSet.copyOf(parts);
    p.addAll(List.of(extra));
    return withParts(p);
  }

  public MPlugConfig withGeneration(GenerationConfig g) {
    return new MPlugConfig(vision, text, embedDim, temp, g, parts, lambda);
  }

  public MPlugConfig withText(TextConfig t) {
    return new MPlugConfig(vision, t, embedDim, temp, generation, parts, lambda);
  }

  public MPlugConfig withVision(VisionConfig v) {
    return new MPlugConfig(v, text, embedDim, temp, generation, parts, lambda);
  }

  public MPlugConfig withLambda(LambdaConfig l) {
    return new MPlugConfig(vision, text, embedDim, temp, generation, parts, l);
  }

  private static void requires(Set<Part> parts, Part part, Part needed) {
    if (parts.contains(part) && !parts.contains(needed)) {
      throw new IllegalArgumentException("parts: " + part + " needs " + needed);
    }
  }
}
