package dev.mplug.task.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.data.text.VocabularyBuilder;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.model.TextConfig;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The four objectives on a tiny model: finite losses, gradients everywhere they should go, EMA and state. */
class PretrainingTaskTest {
  @TempDir Path tmp;

  static final List<String> WORDS = List.of("a", "red", "blue", "green", "circle", "square", "star", "small", "big",
      "on", "the", "left", "right", "of", "and");

  /** A BERT-layout vocabulary ({@link VocabularyBuilder}) of the words. */
  static Path vocab(Path dir) {
    Path f = dir.resolve("vocab.txt");
    new VocabularyBuilder().addAll(WORDS).write(f);
    return f;
  }

  static MPlugConfig tiny(int vocab) {
    MPlugConfig c = MPlugConfig.tiny();
    TextConfig t = c.text();
    return c.withText(new TextConfig(t.hidden(), t.heads(), t.intermediate(), vocab, t.maxPositions(), t.typeVocab(),
        t.layerNormEps(), t.hiddenDropout(), t.attentionDropout(), t.textEncoderLayers(), t.fusionLayers(),
        t.strideLayer(), t.decoderLayers(), t.padTokenId()));
  }

  @Test
  void allFourObjectivesTrainTheWholeModel() {
    Seeds.fresh("allFourObjectivesTrainTheWholeModel");
    BertTokenizer tok = BertTokenizer.load(vocab(tmp));
    MPlugConfig config = tiny(tok.vocabulary().size());
    try (TensorScope scope = TensorScope.open()) {
      MPlug model = new MPlug(config.withParts(
          EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION, Part.DECODER, Part.ITC_ITM_HEADS)));
      Objectives objectives = Objectives.builder().momentum(0.9).queueSize(8).maskProbability(0.5).build();
      try (PretrainingTask task = new PretrainingTask(model, tok, objectives, 12, 5, null)) {
        List<String> captions = List.of("a red circle on the left", "a big blue square", "a small green star",
            "a red star and a blue circle");
        TokenBatch tb = tok.encodeBatch(captions, 12, Padding.LONGEST);
        PretrainBatch batch = new PretrainBatch(torch.randn(4, 3, 32, 32), tb.idsTensor(), tb.maskTensor(), captions);
        Map<String, Tensor> losses = task.losses(batch, 0);
        assertEquals(List.of("itc", "itm", "mlm", "prefix_lm"), List.copyOf(losses.keySet()));
        Tensor total = null;
        for (var e : losses.entrySet()) {
          double v = e.getValue().item_double();
          assertTrue(Double.isFinite(v) && v > 0, e.getKey() + " = " + v);
          total = total == null ? e.getValue() : total.add(e.getValue());
        }
        // ITM starts near chance: -log(0.5) for a two-way classifier that knows nothing
        assertEquals(Math.log(2), losses.get("itm").item_double(), 0.35);
        total.backward();
        Map<String, Tensor> params = task.parameters();
        for (String name : List.of("visual_encoder.visual.conv1.weight", "text_encoder.embeddings.word_embeddings.weight",
            "fusion_encoder.encoder.layer.0.crossattention.self.query.weight", "itm_head.weight", "vision_proj.weight",
            "text_decoder.bert.encoder.layer.0.crossattention.self.key.weight", "temp")) {
          Tensor g = params.get(name).grad();
          assertTrue(g.defined() && g.abs().sum().item_double() > 0, "no gradient reached " + name);
        }
        // the EMA pulls the twins towards the online weights (momentum 0.9): move the online weight, then update
        Tensor online = params.get("vision_proj.bias");
        Tensor twin = task.stateTensors().get("vision_proj_m.bias");
        assertEquals(0.0, Tensors.toFloats(twin.sub(online).abs().max())[0], 1e-6, "twins start as copies");
        try (var g = new NoGradGuard()) {
          online.add_(Tensors.scalar(1.0));
        }
        task.losses(batch, 1);                  // the momentum update runs at the start of each step
        assertEquals(0.9, Tensors.toFloats(online.sub(twin).mean())[0], 1e-4, "EMA step of (1 - 0.9)");
        assertTrue(task.stateTensors().containsKey("image_queue") && task.stateCounters().get("queue_ptr") == 0,
            "queue of 8 wrapped twice with batches of 4: " + task.stateCounters());
        // the model's temperature clamp runs after every optimizer step and before the losses
        try (var g = new NoGradGuard()) {
          model.temperature().fill_(Tensors.scalar(0.9));
        }
        task.afterOptimizerStep(1);
        assertEquals(0.5, model.temperature().item_double(), 1e-7);
        try (var g = new NoGradGuard()) {
          model.temperature().fill_(Tensors.scalar(1e-5));
        }
        task.losses(batch, 2);
        assertEquals(0.001, model.temperature().item_double(), 1e-7);
      }
    }
  }
}
