package dev.mplug.task.pretrain;

import dev.mplug.io.SafeTensors;
import dev.mplug.torch.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Small CLIP and BERT state dicts in the public layouts (OpenAI CLIP {@code visual.*}, Hugging Face
 * {@code bert.*} / {@code cls.*}), sized from a model's own parameters and filled with random values, written with the
 * project's safetensors writer. Each file also carries keys the loaders ignore by rule (CLIP's text tower and
 * projection, BERT's pooler and NSP head), as the real files do.
 */
final class PretrainedFiles {
  private PretrainedFiles() {}

  /** CLIP's vision tower for a model's {@code visual_encoder.visual.*} parameters. */
  static Path clip(Map<String, Tensor> model, Path file) throws IOException {
    Map<String, Tensor> out = new LinkedHashMap<>();
    model.forEach((name, p) -> {
      if (name.startsWith("visual_encoder.visual.")) out.put(name.substring("visual_encoder.".length()), like(p));
    });
    if (out.isEmpty()) throw new IllegalArgumentException("the model has no vision encoder");
    long width = Tensors.shape(model.get("visual_encoder.visual.ln_post.weight"))[0];
    out.put("visual.proj", torch.randn(width, 4));
    out.put("token_embedding.weight", torch.randn(10, 4));
    out.put("logit_scale", torch.randn(1).reshape());
    SafeTensors.write(file, out, Map.of("format", "pt"));
    return file;
  }

  /**
   * BERT with {@code layers} layers, shaped like the model's text encoder; the MLM head from the decoder's
   * {@code cls.predictions.*}; LayerNorm parameters under the old names {@code gamma}/{@code beta}, as
   * bert-base-uncased's pytorch_model.bin has them.
   */
  static Path bert(Map<String, Tensor> model, int layers, Path file) throws IOException {
    Map<String, Tensor> out = new LinkedHashMap<>();
    String layer0 = "text_encoder.encoder.layer.0.";
    model.forEach((name, p) -> {
      if (name.startsWith("text_encoder.embeddings.")) out.put("bert." + name.substring(13), like(p));
    });
    for (int i = 0; i < layers; i++) {
      for (var e : model.entrySet()) {
        if (e.getKey().startsWith(layer0)) {
          out.put("bert.encoder.layer." + i + "." + e.getKey().substring(layer0.length()), like(e.getValue()));
        }
      }
    }
    model.forEach((name, p) -> {
      if (name.startsWith("text_decoder.cls.predictions.")) out.put(name.substring(13), like(p));
    });
    long hidden = Tensors.shape(model.get("text_encoder.embeddings.word_embeddings.weight"))[1];
    out.put("bert.pooler.dense.weight", torch.randn(hidden, hidden));
    out.put("cls.seq_relationship.weight", torch.randn(2, hidden));
    Map<String, Tensor> named = new LinkedHashMap<>();
    out.forEach((k, v) -> named.put(k.replace("LayerNorm.weight", "LayerNorm.gamma")
        .replace("LayerNorm.bias", "LayerNorm.beta"), v));
    SafeTensors.write(file, named, Map.of("format", "pt"));
    return file;
  }

  private static Tensor like(Tensor p) {
    return torch.randn(Tensors.shape(p));
  }
}
