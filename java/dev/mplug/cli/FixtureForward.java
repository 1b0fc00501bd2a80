package dev.mplug.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.io.LoadReport;
import dev.mplug.io.OfficialWeights;
import dev.mplug.io.StateDict;
import dev.mplug.io.TorchCheckpoint;
import dev.mplug.model.BeamSearch;
import dev.mplug.model.FixtureConfig;
import dev.mplug.model.GenerationConfig;
import dev.mplug.model.Hypothesis;
import dev.mplug.model.MPlug;
import dev.mplug.model.SkipConnectedFusion;
import dev.mplug.nn.Handles;
import dev.mplug.task.caption.CaptionHead;
import dev.mplug.task.retrieval.RetrievalHead;
import dev.mplug.task.vqa.VqaHead;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Runs the computations a reference-fixture folder describes (tests/fixtures/mplug-official layout:
 * {@code config.json}, {@code model.pth}, {@code inputs.pth}, optionally {@code outputs.pth}): builds the task's model
 * from config.json, imports model.pth through the official-name mapping, computes every output config.json lists
 * (same names, shapes, dtypes), and compares with outputs.pth when present. {@code mplug forward} and the parity
 * tests both run this.
 */
public final class FixtureForward {
  /** Elementwise acceptance {@code |got - expected| <= atol + rtol |expected|}; integer outputs must be equal. */
  public record Tolerance(double atol, double rtol) {}

  /** One output against the reference: max |diff|, max relative diff (over |expected| >= 1e-6), worst ratio to tol. */
  public record Difference(String name, long[] shape, boolean integer, double maxAbs, double maxRel, double worst,
      long mismatches) {
    public boolean ok() {
      return integer ? mismatches == 0 : worst <= 1.0;
    }
  }

  /** A run: the outputs (owned by the caller until {@link #close}), the load report, the config. */
  public record Run(FixtureConfig config, Map<String, Tensor> outputs, LoadReport load, Tolerance tolerance)
      implements AutoCloseable {
    @Override
    public void close() {
      outputs.values().forEach(Handles::release);
    }
  }

  private FixtureForward() {}

  /**
   * @param cached generate with the key/value cache (else re-run the whole prefix per step, as the official code)
   */
  public static Run run(Path dir, boolean cached) throws IOException {
    Path configFile = dir.resolve("config.json");
    if (!Files.isRegularFile(configFile)) throw new IllegalArgumentException(dir + ": no config.json");
    FixtureConfig config = FixtureConfig.read(configFile);   // first: it names the file when the JSON is broken
    JsonNode json = new ObjectMapper().readTree(configFile.toFile());
    Map<String, Tensor> outputs = new LinkedHashMap<>();
    LoadReport report;
    try (NoGradGuard _ = new NoGradGuard(); StateDict inputs = TorchCheckpoint.readStateDict(
        dir.resolve("inputs.pth"))) {
      if (config.task().equals("fusion")) {
        SkipConnectedFusion fusion = new SkipConnectedFusion(config.text());
        fusion.eval();
        report = OfficialWeights.load(dir.resolve("model.pth"), MPlug.namedParameters(fusion), options(config)
            .withModulePrefix("fusion_encoder."));
        try (TensorScope _ = TensorScope.open()) {
          SkipConnectedFusion.Output f = fusion.forward(input(inputs, "text_embeds"), input(inputs, "text_mask"),
              input(inputs, "image_embeds"), input(inputs, "image_mask"));
          putFusion(outputs, f);
        }
      } else {
        MPlug model = new MPlug(config.model());
        model.eval();
        report = OfficialWeights.load(dir.resolve("model.pth"), model.namedParameters(), options(config));
        try (TensorScope _ = TensorScope.open()) {
          switch (config.task()) {
            case "vqa" -> vqa(model, config, inputs, outputs, cached);
            case "caption" -> caption(model, config, inputs, outputs, cached);
            case "retrieval" -> retrieval(model, inputs, outputs);
            default -> throw new IllegalArgumentException("task " + config.task());
          }
        }
      }
    }
    // outputs were kept out of the scopes above: the run owns them
    Map<String, Tensor> listed = select(json, outputs, dir);
    JsonNode tol = json.path("suggested_tolerance");
    return new Run(config, listed, report, new Tolerance(tol.path("atol").asDouble(1e-4),
        tol.path("rtol").asDouble(1e-4)));
  }

  private static OfficialWeights.Options options(FixtureConfig c) {
    return OfficialWeights.Options.defaults().withFusionStartLayer(c.instantiatedFusionLayers()
        - c.text().fusionLayers());
  }

  private static void vqa(MPlug m, FixtureConfig c, StateDict in, Map<String, Tensor> out, boolean cached) {
    Tensor image = input(in, "image");
    Tensor questionIds = input(in, "question_ids");
    Tensor questionMask = input(in, "question_mask");
    Tensor vit = m.visionTokens(image);
    Tensor v = m.visionEmbeds(vit);
    Tensor l = m.textEmbeds(questionIds, questionMask);
    SkipConnectedFusion.Output f = m.fuse(l, questionMask, v, MPlug.imageMask(v));
    put(out, "vit_output", vit);
    put(out, "vision_embeds", v);
    put(out, "text_embeds", l);
    putFusion(out, f);
    VqaHead head = new VqaHead(m, c.text().padTokenId());
    VqaHead.QuestionStates states = VqaHead.QuestionStates.of(f, questionMask);
    VqaHead.Output answers = head.forward(states, input(in, "answer_ids"), input(in, "answer_mask"),
        input(in, "answer_k"), input(in, "answer_weights"));
    put(out, "decoder_logits", answers.logits());
    put(out, "answer_nll", answers.answerNll());
    put(out, "vqa_loss", answers.loss());
    generation(out, head.generate(states, generation(c), cached), generation(c));
  }

  private static void caption(MPlug m, FixtureConfig c, StateDict in, Map<String, Tensor> out, boolean cached) {
    CaptionHead head = new CaptionHead(m, generation(c));
    CaptionHead.Output o = head.forward(input(in, "image"), input(in, "caption_ids"), input(in, "caption_mask"));
    put(out, "vit_output", o.vitOutput());
    put(out, "vision_embeds", o.visionEmbeds());
    put(out, "decoder_logits", o.logits());
    put(out, "caption_loss", o.loss());
    generation(out, head.generate(o.visionEmbeds(), cached), generation(c));
  }

  private static void retrieval(MPlug m, StateDict in, Map<String, Tensor> out) {
    RetrievalHead head = new RetrievalHead(m);
    Tensor ids = input(in, "text_ids");
    Tensor mask = input(in, "text_mask");
    RetrievalHead.Output o = head.forward(input(in, "image"), ids, mask);
    put(out, "vit_output", o.vitOutput());
    put(out, "vision_embeds", o.visionEmbeds());
    put(out, "text_embeds", o.textEmbeds());
    put(out, "image_feat", o.imageFeatures());
    put(out, "text_feat", o.textFeatures());
    put(out, "sim_i2t", o.simI2t());
    put(out, "sim_t2i", o.simT2i());
    putFusion(out, o.fused());
    put(out, "itm_logits", o.itmLogits());
    // every pair: row i * B + j = image i with text j
    long b = ids.size(0);
    Tensor images = o.visionEmbeds().repeat_interleave(b, new LongOptional(0), new LongOptional());
    Tensor texts = o.textEmbeds().repeat(b, 1, 1);
    Tensor masks = mask.repeat(b, 1);
    put(out, "itm_logits_all", head.matchLogits(images, texts, masks).view(b, b, 2));
  }

  private static GenerationConfig generation(FixtureConfig c) {
    if (c.generation() == null) throw new IllegalArgumentException("config.json has no generation section");
    return c.generation();
  }

  /** The official output layout: ids padded with -1 to max_length + 1, lengths, scores; best first. */
  private static void generation(Map<String, Tensor> out, List<List<Hypothesis>> beams, GenerationConfig g) {
    int b = beams.size(), k = g.beamSize(), len = g.maxLength() + 1;
    long[] ids = new long[b * k * len];
    long[] lengths = new long[b * k];
    float[] scores = new float[b * k];
    Arrays.fill(ids, -1);
    Arrays.fill(scores, Float.NEGATIVE_INFINITY);
    for (int i = 0; i < b; i++) {
      List<Hypothesis> hs = beams.get(i);
      for (int j = 0; j < Math.min(k, hs.size()); j++) {
        long[] h = hs.get(j).ids();
        System.arraycopy(h, 0, ids, (i * k + j) * len, h.length);
        lengths[i * k + j] = h.length;
        scores[i * k + j] = hs.get(j).score();
      }
    }
    Tensor beamIds = Tensors.longs(ids, b, k, len);
    Tensor beamLengths = Tensors.longs(lengths, b, k);
    Tensor beamScores = Tensors.floats(scores, b, k);
    put(out, "generated_ids", beamIds.select(1, 0));
    put(out, "generated_lengths", beamLengths.select(1, 0));
    put(out, "generated_scores", beamScores.select(1, 0));
    put(out, "beam_ids", beamIds);
    put(out, "beam_lengths", beamLengths);
    put(out, "beam_scores", beamScores);
  }

  private static void putFusion(Map<String, Tensor> out, SkipConnectedFusion.Output f) {
    put(out, "fusion_image", f.image());
    put(out, "fusion_text", f.text());
    put(out, "fusion_image_layers", torch.stack(new TensorVector(f.imageLayers().toArray(new Tensor[0])), 0));
    put(out, "fusion_text_layers", torch.stack(new TensorVector(f.textLayers().toArray(new Tensor[0])), 0));
  }

  /** A contiguous copy that outlives the current scope. */
  private static void put(Map<String, Tensor> out, String name, Tensor t) {
    out.put(name, Handles.own(t.contiguous().clone()));
  }

  /** JavaCPP returns a fresh enum object for a native dtype: compare the native code, not identity. */
  private static boolean isLong(Tensor t) {
    return t.scalar_type().value == torch.ScalarType.Long.value;
  }

  private static Tensor input(StateDict in, String name) {
    if (!in.contains(name)) throw new IllegalArgumentException("inputs.pth has no tensor '" + name + "'");
    return in.get(name);
  }

  /** The outputs config.json lists, in its order, each checked against its declared shape and dtype. */
  private static Map<String, Tensor> select(JsonNode json, Map<String, Tensor> computed, Path dir) {
    Map<String, Tensor> listed = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    json.path("outputs").properties().forEach(e -> {
      Tensor t = computed.get(e.getKey());
      if (t == null) {
        problems.add(e.getKey() + ": not computed by task " + json.path("task").asText());
        return;
      }
      long[] shape = new long[e.getValue().path("shape").size()];
      for (int i = 0; i < shape.length; i++) shape[i] = e.getValue().path("shape").get(i).asLong();
      String dtype = e.getValue().path("dtype").asText();
      String got = isLong(t) ? "int64" : t.scalar_type().value == torch.ScalarType.Float.value ? "float32" : t.scalar_type().toString();
      if (!Arrays.equals(shape, Tensors.shape(t)) || !dtype.equals(got)) {
        problems.add(e.getKey() + ": config.json says " + dtype + " " + Arrays.toString(shape) + ", computed " + got
            + " " + Tensors.shapeString(t));
      }
      listed.put(e.getKey(), t);
    });
    computed.forEach((k, t) -> {
      if (!listed.containsKey(k)) Handles.release(t);
    });
    if (!problems.isEmpty()) {
      listed.values().forEach(Handles::release);
      throw new IllegalArgumentException(dir.resolve("config.json") + ": " + String.join("; ", problems));
    }
    return listed;
  }

  /** Compares every output with the reference file's tensor of the same name. */
  public static List<Difference> compare(Map<String, Tensor> outputs, Path reference, Tolerance tol)
      throws IOException {
    List<Difference> rows = new ArrayList<>();
    try (StateDict expected = TorchCheckpoint.readStateDict(reference); TensorScope _ = TensorScope.open()) {
      for (Map.Entry<String, Tensor> e : outputs.entrySet()) {
        String name = e.getKey();
        if (!expected.contains(name)) throw new IllegalArgumentException(reference + " has no output '" + name + "'");
        Tensor want = expected.get(name);
        Tensor got = e.getValue();
        if (!Arrays.equals(Tensors.shape(want), Tensors.shape(got))) {
          throw new IllegalArgumentException(name + ": " + reference.getFileName() + " has shape "
              + Tensors.shapeString(want) + ", computed " + Tensors.shapeString(got));
        }
        boolean integer = isLong(want);
        if (integer) {
          long mismatches = got.ne(want).sum().item_long();
          rows.add(new Difference(name, Tensors.shape(got), true, got.sub(want).abs().max().item_double(), 0, 0,
              mismatches));
        } else {
          Tensor w = want.to(torch.ScalarType.Double);
          Tensor diff = got.to(torch.ScalarType.Double).sub(w).abs();
          Tensor absW = w.abs();
          double maxAbs = diff.numel() == 0 ? 0 : diff.max().item_double();
          Tensor big = absW.ge(new Scalar(1e-6));
          double maxRel = big.any().item_bool() ? diff.masked_select(big).div(absW.masked_select(big)).max()
              .item_double() : 0;
          double worst = diff.numel() == 0 ? 0 : diff.div(absW.mul(new Scalar(tol.rtol())).add(new Scalar(tol.atol())))
              .max().item_double();
          rows.add(new Difference(name, Tensors.shape(got), false, maxAbs, maxRel, worst, 0));
        }
      }
    }
    return rows;
  }
}
