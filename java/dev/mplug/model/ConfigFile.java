package dev.mplug.model;

import com.google.protobuf.TextFormat;
import dev.mplug.model.proto.GenerationSection;
import dev.mplug.model.proto.HeadsSection;
import dev.mplug.model.proto.LambdaSection;
import dev.mplug.model.proto.ModelConfigFile;
import dev.mplug.model.proto.TextSection;
import dev.mplug.model.proto.VisionSection;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.DoubleSupplier;
import java.util.function.IntSupplier;

/**
 * The model config file: protobuf text format of {@code mplug.model.ModelConfigFile}. An optional {@code preset}
 * gives starting values that the sections override field by field; without one every field must be present.
 * Unknown keys, malformed values and invalid sizes fail naming the key and the file.
 */
public final class ConfigFile {
  private ConfigFile() {}

  public static MPlugConfig read(Path file) throws IOException {
    return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
  }

  /** Parses config text; {@code source} names it in errors (a path or "<string>"). */
  public static MPlugConfig parse(String text, String source) {
    ModelConfigFile.Builder b = ModelConfigFile.newBuilder();
    try {
      TextFormat.Parser.newBuilder().build().merge(text, b);
    } catch (TextFormat.ParseException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
    try {
      return resolve(b.build());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
  }

  /** The config as a complete file (every field written, no preset), readable by {@link #parse}. */
  public static String format(MPlugConfig c) {
    VisionConfig v = c.vision();
    TextConfig t = c.text();
    GenerationConfig g = c.generation();
    ModelConfigFile file = ModelConfigFile.newBuilder()
        .setVision(VisionSection.newBuilder().setImageRes(v.imageRes()).setPatchSize(v.patchSize())
            .setWidth(v.width()).setLayers(v.layers()).setHeads(v.heads()).setMlpRatio(v.mlpRatio())
            .setAttentionDropout(v.attentionDropout()))
        .setText(TextSection.newBuilder().setHiddenSize(t.hidden()).setNumAttentionHeads(t.heads())
            .setIntermediateSize(t.intermediate()).setVocabSize(t.vocab()).setMaxPositionEmbeddings(t.maxPositions())
            .setTypeVocabSize(t.typeVocab()).setLayerNormEps(t.layerNormEps()).setHiddenDropoutProb(t.hiddenDropout())
            .setAttentionProbsDropoutProb(t.attentionDropout()).setTextEncoderLayers(t.textEncoderLayers())
            .setFusionLayers(t.fusionLayers()).setStrideLayer(t.strideLayer()).setTextDecodeLayers(t.decoderLayers())
            .setPadTokenId(t.padTokenId()))
        .setHeads(HeadsSection.newBuilder().setEmbedDim(c.embedDim()).setTemp(c.temp()))
        .setGeneration(GenerationSection.newBuilder().setBeamSize(g.beamSize()).setMinLength(g.minLength())
            .setMaxLength(g.maxLength()).setStartToken(g.startToken()).setEndToken(g.endToken())
            .setLengthPenaltyAlpha(g.lengthPenaltyAlpha()))
        .addAllParts(c.parts().stream().sorted().map(p -> dev.mplug.model.proto.Part.valueOf(p.name())).toList())
        .build();
    if (c.lambda().any()) {   // the published model's files stay without the section
      LambdaConfig l = c.lambda();
      file = file.toBuilder().setLambda(LambdaSection.newBuilder().setFusion(l.fusion()).setVision(l.vision())
          .setKeyDepth(l.keyDepth()).setPositionWindow(l.positionWindow())).build();
    }
    return TextFormat.printer().printToString(file);
  }

  public static void write(Path file, MPlugConfig c) throws IOException {
    Files.writeString(file, format(c), StandardCharsets.UTF_8);
  }

  private static MPlugConfig resolve(ModelConfigFile f) {
    MPlugConfig base = f.hasPreset() ? MPlugConfig.preset(f.getPreset()) : null;
    VisionSection vs = f.getVision();
    VisionConfig bv = base == null ? null : base.vision();
    VisionConfig vision = new VisionConfig(
        i("vision.image_res", vs.hasImageRes(), vs::getImageRes, bv == null ? null : bv::imageRes),
        i("vision.patch_size", vs.hasPatchSize(), vs::getPatchSize, bv == null ? null : bv::patchSize),
        i("vision.width", vs.hasWidth(), vs::getWidth, bv == null ? null : bv::width),
        i("vision.layers", vs.hasLayers(), vs::getLayers, bv == null ? null : bv::layers),
        i("vision.heads", vs.hasHeads(), vs::getHeads, bv == null ? null : bv::heads),
        i("vision.mlp_ratio", vs.hasMlpRatio(), vs::getMlpRatio, bv == null ? null : bv::mlpRatio),
        d("vision.attention_dropout", vs.hasAttentionDropout(), vs::getAttentionDropout,
            bv == null ? null : bv::attentionDropout));
    TextSection ts = f.getText();
    TextConfig bt = base == null ? null : base.text();
    TextConfig text = new TextConfig(
        i("text.hidden_size", ts.hasHiddenSize(), ts::getHiddenSize, bt == null ? null : bt::hidden),
        i("text.num_attention_heads", ts.hasNumAttentionHeads(), ts::getNumAttentionHeads,
            bt == null ? null : bt::heads),
        i("text.intermediate_size", ts.hasIntermediateSize(), ts::getIntermediateSize,
            bt == null ? null : bt::intermediate),
        i("text.vocab_size", ts.hasVocabSize(), ts::getVocabSize, bt == null ? null : bt::vocab),
        i("text.max_position_embeddings", ts.hasMaxPositionEmbeddings(), ts::getMaxPositionEmbeddings,
            bt == null ? null : bt::maxPositions),
        i("text.type_vocab_size", ts.hasTypeVocabSize(), ts::getTypeVocabSize, bt == null ? null : bt::typeVocab),
        d("text.layer_norm_eps", ts.hasLayerNormEps(), ts::getLayerNormEps, bt == null ? null : bt::layerNormEps),
        d("text.hidden_dropout_prob", ts.hasHiddenDropoutProb(), ts::getHiddenDropoutProb,
            bt == null ? null : bt::hiddenDropout),
        d("text.attention_probs_dropout_prob", ts.hasAttentionProbsDropoutProb(), ts::getAttentionProbsDropoutProb,
            bt == null ? null : bt::attentionDropout),
        i("text.text_encoder_layers", ts.hasTextEncoderLayers(), ts::getTextEncoderLayers,
            bt == null ? null : bt::textEncoderLayers),
        i("text.fusion_layers", ts.hasFusionLayers(), ts::getFusionLayers, bt == null ? null : bt::fusionLayers),
        i("text.stride_layer", ts.hasStrideLayer(), ts::getStrideLayer, bt == null ? null : bt::strideLayer),
        i("text.text_decode_layers", ts.hasTextDecodeLayers(), ts::getTextDecodeLayers,
            bt == null ? null : bt::decoderLayers),
        i("text.pad_token_id", ts.hasPadTokenId(), ts::getPadTokenId, bt == null ? null : bt::padTokenId));
    HeadsSection hs = f.getHeads();
    int embedDim = i("heads.embed_dim", hs.hasEmbedDim(), hs::getEmbedDim, base == null ? null : base::embedDim);
    double temp = d("heads.temp", hs.hasTemp(), hs::getTemp, base == null ? null : base::temp);
    GenerationSection gs = f.getGeneration();
    GenerationConfig bg = base == null ? null : base.generation();
    GenerationConfig generation = new GenerationConfig(
        i("generation.beam_size", gs.hasBeamSize(), gs::getBeamSize, bg == null ? null : bg::beamSize),
        i("generation.min_length", gs.hasMinLength(), gs::getMinLength, bg == null ? null : bg::minLength),
        i("generation.max_length", gs.hasMaxLength(), gs::getMaxLength, bg == null ? null : bg::maxLength),
        i("generation.start_token", gs.hasStartToken(), gs::getStartToken, bg == null ? null : bg::startToken),
        i("generation.end_token", gs.hasEndToken(), gs::getEndToken, bg == null ? null : bg::endToken),
        d("generation.length_penalty_alpha", gs.hasLengthPenaltyAlpha(), gs::getLengthPenaltyAlpha,
            bg == null ? null : bg::lengthPenaltyAlpha));
    Set<Part> parts;
    if (f.getPartsCount() > 0) {
      EnumSet<Part> given = EnumSet.noneOf(Part.class);
      for (dev.mplug.model.proto.Part p : f.getPartsList()) {
        if (p == dev.mplug.model.proto.Part.PART_UNSPECIFIED || p == dev.mplug.model.proto.Part.UNRECOGNIZED) {
          throw new IllegalArgumentException("parts: " + p + " is not a part " + List.of(Part.values()));
        }
        given.add(Part.valueOf(p.name()));
      }
      parts = given;
    } else if (base != null) {
      parts = base.parts();
    } else {
      throw missing("parts");
    }
    LambdaConfig lambda = base == null ? LambdaConfig.NONE : base.lambda();
    if (f.hasLambda()) {
      LambdaSection ls = f.getLambda();
      lambda = new LambdaConfig(ls.hasFusion() ? ls.getFusion() : lambda.fusion(),
          ls.hasVision() ? ls.getVision() : lambda.vision(), ls.hasKeyDepth() ? ls.getKeyDepth() : lambda.keyDepth(),
          ls.hasPositionWindow() ? ls.getPositionWindow() : lambda.positionWindow());
    }
    return new MPlugConfig(vision, text, embedDim, temp, generation, parts, lambda);
  }

  private static int i(String key, boolean present, IntSupplier value, IntSupplier fallback) {
    if (present) return value.getAsInt();
    if (fallback == null) throw missing(key);
    return fallback.getAsInt();
  }

  private static double d(String key, boolean present, DoubleSupplier value, DoubleSupplier fallback) {
    if (present) return value.getAsDouble();
    if (fallback == null) throw missing(key);
    return fallback.getAsDouble();
  }

  private static IllegalArgumentException missing(String key) {
    return new IllegalArgumentException(key + " is missing (give it, or name a preset: tiny, base, large)");
  }
}
