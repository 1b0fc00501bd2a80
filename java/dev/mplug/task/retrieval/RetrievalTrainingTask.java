package dev.mplug.task.retrieval;

import dev.mplug.model.MPlug;
import dev.mplug.profile.Range;
import dev.mplug.task.FineTuning;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * Retrieval fine-tuning: {@code itc_weight * ITC + itm_weight * ITM} of {@link RetrievalHead#losses} per micro-batch.
 * The learned temperature is clamped to [0.001, 0.5] before each step's losses and after each optimizer step, as in
 * pretraining.
 */
public final class RetrievalTrainingTask extends FineTuning<RetrievalBatch> {
  private final RetrievalHead head;
  private final double itcWeight;
  private final double itmWeight;

  public RetrievalTrainingTask(MPlug model, double itcWeight, double itmWeight) {
    this(new RetrievalHead(model), "retrieval", itcWeight, itmWeight);
  }

  /** The objective over {@code head}'s visual side (clips for text-video retrieval), stored as {@code taskName}. */
  public RetrievalTrainingTask(RetrievalHead head, String taskName, double itcWeight, double itmWeight) {
    super(head.model(), taskName);
    this.head = head;
    this.itcWeight = itcWeight;
    this.itmWeight = itmWeight;
  }

  @Override
  public int batchSize(RetrievalBatch batch) {
    return batch.size();
  }

  @Override
  public Map<String, Tensor> losses(RetrievalBatch batch, long step) {
    head.model().clampTemperature();
    RetrievalHead.Losses l;
    try (Range r = Range.open("loss.itc_itm")) {
      l = head.losses(batch.images(), batch.ids(), batch.mask(), batch.imageIds());
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    if (itcWeight > 0) out.put("itc", l.itc().mul(new Scalar(itcWeight)));
    if (itmWeight > 0) out.put("itm", l.itm().mul(new Scalar(itmWeight)));
    return out;
  }

  @Override
  public void afterOptimizerStep(long step) {
    head.model().clampTemperature();
  }

  @Override
  public Map<String, Double> metrics() {
    return Map.of("temp", head.model().temperature().item_double());
  }
}
