package dev.mplug.task.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.io.LoadReport;
import dev.mplug.io.MPlugCheckpoint;
import dev.mplug.io.Rule;
import dev.mplug.io.SafeTensors;
import dev.mplug.io.StateDict;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import dev.mplug.train.CheckpointStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fresh pretraining run starts from CLIP + BERT files in their public layouts, or from an mPLUG checkpoint: the
 * model's tensors equal the file's afterwards, and bad files fail naming the config key.
 */
@SuppressWarnings("try") // tensor scopes free memory by being open
class InitialWeightsTest {
  @TempDir Path dir;

  /** The tiny preset with the parts pretraining builds (text 2 + fusion 3 + decoder 2 layers). */
  private static MPlug pretrainModel() {
    return new MPlug(MPlugConfig.tiny().withParts(EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION,
        Part.DECODER, Part.ITC_ITM_HEADS)));
  }

  private static PretrainConfig.Init init(Path vision, Path text, Path checkpoint) {
    return new PretrainConfig.Init(vision, text, checkpoint, true);
  }

  @Test
  void clipAndBertFillVisionTextFusionAndDecoderAndTheTwinsCopyThem() throws Exception {
    Seeds.fresh("init from CLIP and BERT");
    try (TensorScope s = TensorScope.open()) {
      MPlug model = pretrainModel();
      Map<String, Tensor> params = model.namedParameters();
      Path clipFile = PretrainedFiles.clip(params, dir.resolve("clip.safetensors"));
      Path bertFile = PretrainedFiles.bert(params, 4, dir.resolve("bert.safetensors"));   // fusion = BERT layers 1-3
      Map<String, LoadReport> reports = InitialWeights.load(init(clipFile, bertFile, null), model);
      assertEquals(List.of("vision", "text"), List.copyOf(reports.keySet()));
      LoadReport vision = reports.get("vision");
      LoadReport text = reports.get("text");
      assertTrue(vision.complete() && text.complete(), vision.summary() + "\n" + text.summary());
      assertEquals(Map.of(Rule.CLIP_PROJ, 1, Rule.CLIP_TEXT_TOWER, 2), vision.ignoredCounts());
      assertEquals(Map.of(Rule.BERT_POOLER, 1, Rule.BERT_NSP_HEAD, 1), text.ignoredCounts());

      try (StateDict clip = SafeTensors.read(clipFile); StateDict bert = SafeTensors.read(bertFile)) {
        long visionParams = params.keySet().stream().filter(n -> n.startsWith("visual_encoder.visual.")).count();
        assertEquals(visionParams, vision.loaded().size(), "every ViT parameter from CLIP");
        for (var e : vision.loaded().entrySet()) {
          assertTrue(params.get(e.getKey()).equal(clip.get(e.getValue())), e.getKey() + " <- " + e.getValue());
        }
        for (var e : text.loaded().entrySet()) {
          assertTrue(params.get(e.getKey()).equal(bert.get(e.getValue())), e.getKey() + " <- " + e.getValue());
        }
        // the layer rules, spelled out: text layer i and decoder layer i = BERT layer i, fusion n = BERT layer 1 + n
        String q = ".attention.self.query.weight";
        assertTrue(params.get("text_encoder.encoder.layer.1" + q).equal(bert.get("bert.encoder.layer.1" + q)));
        assertTrue(params.get("text_decoder.bert.encoder.layer.1" + q).equal(bert.get("bert.encoder.layer.1" + q)));
        assertTrue(params.get("fusion_encoder.encoder.layer.0" + q).equal(bert.get("bert.encoder.layer.1" + q)));
        assertTrue(params.get("fusion_encoder.encoder.layer.2" + q).equal(bert.get("bert.encoder.layer.3" + q)));
        assertTrue(params.get("text_encoder.embeddings.LayerNorm.weight")
            .equal(bert.get("bert.embeddings.LayerNorm.gamma")));
        assertTrue(params.get("visual_encoder.visual.conv1.weight").equal(clip.get("visual.conv1.weight")));
      }
      assertFalse(text.fresh().isEmpty(), "cross-attention stays fresh");

      // the task built afterwards (as PretrainRun does) starts its momentum twins at the loaded values
      Map<String, Tensor> twins = new MomentumEncoder(model, new MPlug(model.config().withParts(EnumSet.of(
          Part.VISION, Part.TEXT_ENCODER, Part.FUSION, Part.ITC_ITM_HEADS))), 0.995).parameters();
      assertTrue(twins.get("visual_encoder_m.visual.conv1.weight")
          .equal(params.get("visual_encoder.visual.conv1.weight")));
      assertTrue(twins.get("fusion_encoder_m.encoder.layer.2.output.dense.weight")
          .equal(params.get("fusion_encoder.encoder.layer.2.output.dense.weight")));
    }
  }

  @Test
  void aCheckpointOfThisProjectOrATrainerFolderFillsTheWholeModel() throws Exception {
    Seeds.fresh("init from a checkpoint");
    try (TensorScope s = TensorScope.open()) {
      MPlug source = pretrainModel();
      Path file = dir.resolve("model.safetensors");
      MPlugCheckpoint.save(source, file);
      MPlug model = pretrainModel();
      LoadReport r = InitialWeights.load(init(null, null, file), model).get("checkpoint");
      assertTrue(r.complete(), r.summary());
      Map<String, Tensor> want = source.namedParameters();
      Map<String, Tensor> got = model.namedParameters();
      assertEquals(want.size(), r.loaded().size());
      for (String k : want.keySet()) assertTrue(got.get(k).equal(want.get(k)), k);

      // a trainer checkpoint folder: model.safetensors with the trainer's state/ entries (which a fresh run drops)
      Map<String, Tensor> withState = new LinkedHashMap<>(want);
      withState.put("state/image_queue", torch.zeros(16, 8));
      Path folder = new CheckpointStore(dir.resolve("checkpoints"), 1).save(3, d ->
          SafeTensors.write(d.resolve("model.safetensors"), withState, Map.of("format", "mplug-java")));
      MPlug fromFolder = pretrainModel();
      LoadReport f = InitialWeights.load(init(null, null, folder), fromFolder).get("checkpoint");
      assertTrue(f.complete(), f.summary());
      for (String k : want.keySet()) assertTrue(fromFolder.namedParameters().get(k).equal(want.get(k)), k);
    }
  }

  @Test
  void badFilesFailNamingTheKeyAndTheProblem() throws Exception {
    try (TensorScope s = TensorScope.open()) {
      MPlug model = pretrainModel();
      Map<String, Tensor> params = model.namedParameters();

      // CLIP of another width: shapes do not fit, nothing is copied
      Map<String, Tensor> wide = new LinkedHashMap<>();
      params.forEach((k, v) -> wide.put(k, k.startsWith("visual_encoder.visual.ln_post") ? torch.ones(48) : v));
      Path wrongClip = PretrainedFiles.clip(wide, dir.resolve("clip-wide.safetensors"));
      float[] before = Tensors.toFloats(params.get("visual_encoder.visual.conv1.weight"));
      var e = assertThrows(IllegalArgumentException.class,
          () -> InitialWeights.load(init(wrongClip, null, null), model));
      assertTrue(e.getMessage().startsWith("init.vision: " + wrongClip) && e.getMessage().contains("nothing was loaded")
          && e.getMessage().contains("'visual.ln_post.weight' has shape [48]"), e.getMessage());
      assertEquals(before[0], Tensors.toFloats(params.get("visual_encoder.visual.conv1.weight"))[0], 0f);

      // a BERT file given as the CLIP file: no CLIP key; strict lists the missing ViT, lenient finds nothing to load
      Path bertFile = PretrainedFiles.bert(params, 4, dir.resolve("bert.safetensors"));
      e = assertThrows(IllegalArgumentException.class, () -> InitialWeights.load(init(bertFile, null, null), model));
      assertTrue(e.getMessage().startsWith("init.vision: " + bertFile + ": strict load failed")
          && e.getMessage().endsWith("(init { strict: false } loads what fits and reports the rest)"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> InitialWeights.load(
          new PretrainConfig.Init(bertFile, null, null, false), model));
      assertTrue(e.getMessage().startsWith("init.vision: " + bertFile + " holds no weights for this model")
          && e.getMessage().contains("an OpenAI CLIP state dict"), e.getMessage());

      // not a state dict at all
      Path junk = Files.writeString(dir.resolve("notes.txt"), "not a checkpoint");
      e = assertThrows(IllegalArgumentException.class, () -> InitialWeights.load(init(null, null, junk), model));
      assertTrue(e.getMessage().startsWith("init.checkpoint: ") && e.getMessage().contains(junk.toString()),
          e.getMessage());

      // a folder that is not a complete checkpoint
      Path empty = Files.createDirectories(dir.resolve("step-000000001"));
      e = assertThrows(IllegalArgumentException.class, () -> InitialWeights.load(init(null, null, empty), model));
      assertTrue(e.getMessage().startsWith("init.checkpoint: " + empty + " is not a complete checkpoint folder"),
          e.getMessage());
    }
  }

  @Test
  void configKeysAreValidatedBeforeCompute() throws Exception {
    Path ann = Files.writeString(dir.resolve("pretrain.json"), "[]");
    Files.writeString(dir.resolve("vocab.txt"), "[PAD]\n");
    List<String> base = List.of("data.annotations=" + ann, "output_dir=" + dir.resolve("out"));
    var e = assertThrows(IllegalArgumentException.class, () -> load(base, "init.checkpoint=/x/mplug.pth",
        "init.vision=/x/clip.pt"));
    assertTrue(e.getMessage().contains("init.checkpoint excludes init.vision and init.text"), e.getMessage());
    PretrainConfig missing = load(base, "init.vision=" + dir.resolve("ViT-B-16.pt"), "init.text=" + ann);
    e = assertThrows(IllegalArgumentException.class, missing::checkInit);
    assertEquals("init.vision: " + dir.resolve("ViT-B-16.pt") + " does not exist", e.getMessage());
    PretrainConfig folder = load(base, "init.text=" + dir);
    e = assertThrows(IllegalArgumentException.class, folder::checkInit);
    assertEquals("init.text: " + dir + " is a folder, not a state dict file", e.getMessage());
    assertTrue(load(base).init().isEmpty());
    assertTrue(load(base, "init.text=" + ann, "init.strict=false").init().text() != null);
    assertTrue(load(base, "init.text=").init().isEmpty(), "an empty path turns the file off");
    // the shipped base and large configs start as the official runs do
    PretrainConfig.Init official = PretrainConfig.load("pretrain-base", List.of()).init();
    assertEquals(new PretrainConfig.Init(Path.of("data/clip/ViT-B-16.pt"),
        Path.of("data/bert-base-uncased/pytorch_model.bin"), null, true), official);
    assertEquals(Path.of("data/clip/ViT-L-14.pt"), PretrainConfig.load("pretrain-large", List.of()).init().vision());
  }

  private static PretrainConfig load(List<String> base, String... more) {
    List<String> all = new ArrayList<>(base);
    all.addAll(List.of(more));
    return PretrainConfig.load("pretrain-tiny", all);
  }
}
