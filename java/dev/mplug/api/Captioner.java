package dev.mplug.api;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.model.Hypothesis;
import dev.mplug.task.caption.CaptionHead;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/** Captioning as {@code CaptionEvaluation} does it: beam search over the image tokens, with the key/value cache. */
final class Captioner {
  private final CaptionHead head;
  private final BertTokenizer tokenizer;

  Captioner(CaptionHead head, BertTokenizer tokenizer) {
    this.head = head;
    this.tokenizer = tokenizer;
  }

  /** The best hypothesis of each image [B, 3, R, R] (call in eval mode, without gradients). */
  List<Caption> caption(Tensor images) {
    List<List<Hypothesis>> beams = head.generate(head.imageStates(images), true);
    List<Caption> out = new ArrayList<>(beams.size());
    for (List<Hypothesis> b : beams) out.add(new Caption(head.caption(b.get(0), tokenizer), b.get(0).score()));
    return out;
  }
}
