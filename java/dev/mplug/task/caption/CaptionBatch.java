package dev.mplug.task.caption;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * One captioning micro-batch: normalised images [B, 3, R, R], the target captions as the decoder reads them
 * ({@code [CLS] caption [SEP] [SEP]} padded, ids and keep-mask int64 [B, T]; the doubled [SEP] is the official
 * {@code caption + eos} before the tokenizer adds its own) and each sample's image id (self-critical training looks up
 * the image's reference captions by it).
 */
public record CaptionBatch(Tensor images, Tensor ids, Tensor mask, List<String> imageIds) {
  public CaptionBatch {
    imageIds = List.copyOf(imageIds);
    if (images.size(0) != ids.size(0) || ids.size(0) != imageIds.size()) {
      throw new IllegalArgumentException("batch parts disagree: " + images.size(0) + " images, " + ids.size(0)
          + " caption rows, " + imageIds.size() + " image ids");
    }
  }

  public int size() {
    return imageIds.size();
  }
}
