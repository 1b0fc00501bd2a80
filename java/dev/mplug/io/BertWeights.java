package dev.mplug.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.pytorch.Tensor;

/**
 * Initialises mPLUG's text modules from Hugging Face BERT weights (bert-base-uncased's pytorch_model.bin or
 * model.safetensors), as the official constructors do with {@code from_pretrained}:
 * <ul>
 *   <li>text encoder = BERT embeddings + layers 0..text_encoder_layers-1;
 *   <li>fusion layer n = BERT layer s + n, s = BERT layers - fusion layers (the official fusion model is a full
 *       12-layer BERT whose last fusion_layers run: layers 6..11 of bert-base); its cross-attention is left fresh;
 *   <li>decoder = BERT embeddings + layers 0..decoder_layers-1 + the MLM head's {@code cls.predictions} (transform and
 *       bias; the decoder matrix is tied to the word embeddings); its cross-attention is left fresh.
 * </ul>
 * Momentum twins ({@code text_encoder_m}, ...) get the same values. Old LayerNorm names ({@code gamma}/{@code beta})
 * are read as {@code weight}/{@code bias}; keys with or without the {@code bert.} prefix are accepted.
 */
public final class BertWeights {
  private static final Pattern LAYER = Pattern.compile("encoder\\.layer\\.(\\d+)\\.(.+)");
  private static final String[] TWINS = {"", "_m"};

  private BertWeights() {}

  public static LoadReport load(Path bertFile, Map<String, Tensor> target, boolean strict) throws IOException {
    try (StateDict bert = CheckpointFiles.read(bertFile)) {
      return load(bert, target, -1, strict);
    }
  }

  /**
   * @param fusionFirstBertLayer the BERT layer that feeds fusion layer 0; -1 infers it as the official code does
   *     (BERT layer count minus the model's fusion layer count)
   */
  public static LoadReport load(StateDict bert, Map<String, Tensor> target, int fusionFirstBertLayer, boolean strict) {
    LoadPlan plan = new LoadPlan(bert.origin(), target);
    plan.responsibleFor(BertWeights::textModule);
    for (String name : target.keySet()) {
      if (textModule(name) && name.contains(".crossattention.")) plan.leaveFresh(Rule.FRESH_CROSS_ATTENTION, name);
    }
    int fusionStart = fusionFirstBertLayer >= 0 ? fusionFirstBertLayer : inferFusionStart(bert, target);

    for (String key : bert.keys()) {
      String k = normalise(key);
      if (k.equals("embeddings.position_ids")) {
        plan.ignore(Rule.POSITION_IDS, key);
      } else if (k.startsWith("pooler.")) {
        plan.ignore(Rule.BERT_POOLER, key);
      } else if (k.startsWith("cls.seq_relationship.")) {
        plan.ignore(Rule.BERT_NSP_HEAD, key);
      } else if (k.equals("cls.predictions.decoder.weight") || k.equals("cls.predictions.decoder.bias")) {
        plan.ignore(Rule.TIED_DECODER, key);
      } else if (k.startsWith("embeddings.") || k.startsWith("encoder.layer.") || k.startsWith("cls.predictions.")) {
        List<String> names = targets(k, fusionStart);
        names.removeIf(n -> !plan.hasTarget(n));
        if (names.isEmpty()) plan.ignore(Rule.BERT_UNUSED, key);
        for (String n : names) plan.load(key, bert.get(key), n);
      } else {
        plan.unexpected(key);
      }
    }
    return plan.execute(strict);
  }

  /** Every model parameter a BERT key may initialise (filtered to the ones the model has by the caller). */
  private static List<String> targets(String k, int fusionStart) {
    List<String> out = new ArrayList<>();
    for (String m : TWINS) {
      if (k.startsWith("embeddings.")) {
        out.add("text_encoder" + m + "." + k);
        out.add("text_decoder" + m + ".bert." + k);
      } else if (k.startsWith("cls.predictions.")) {
        out.add("text_decoder" + m + "." + k);
      } else {
        Matcher l = LAYER.matcher(k);
        if (!l.matches()) continue;
        int i = Integer.parseInt(l.group(1));
        out.add("text_encoder" + m + ".encoder.layer." + i + "." + l.group(2));
        if (i >= fusionStart) out.add("fusion_encoder" + m + ".encoder.layer." + (i - fusionStart) + "." + l.group(2));
        out.add("text_decoder" + m + ".bert.encoder.layer." + i + "." + l.group(2));
      }
    }
    return out;
  }

  /** Official: the fusion model has as many layers as BERT and runs its last fusion_layers. */
  private static int inferFusionStart(StateDict bert, Map<String, Tensor> target) {
    int bertLayers = maxLayer(bert.keys().stream().map(BertWeights::normalise).toList(), "") + 1;
    int fusionLayers = maxLayer(target.keySet(), "fusion_encoder.") + 1;
    return Math.max(0, bertLayers - fusionLayers);
  }

  private static int maxLayer(Iterable<String> names, String prefix) {
    int max = -1;
    for (String n : names) {
      if (!n.startsWith(prefix)) continue;
      Matcher m = LAYER.matcher(n.substring(prefix.length()));
      if (m.matches()) max = Math.max(max, Integer.parseInt(m.group(1)));
    }
    return max;
  }

  /** bert.X -> X; LayerNorm gamma/beta -> weight/bias. */
  private static String normalise(String key) {
    String k = key.startsWith("bert.") ? key.substring(5) : key;
    if (k.endsWith(".gamma")) k = k.substring(0, k.length() - 6) + ".weight";
    if (k.endsWith(".beta")) k = k.substring(0, k.length() - 5) + ".bias";
    return k;
  }

  private static boolean textModule(String name) {
    return name.startsWith("text_encoder.") || name.startsWith("text_encoder_m.")
        || name.startsWith("fusion_encoder.") || name.startsWith("fusion_encoder_m.")
        || name.startsWith("text_decoder.") || name.startsWith("text_decoder_m.");
  }
}
