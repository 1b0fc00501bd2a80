package dev.mplug.data.shard;

import com.google.protobuf.ByteString;
import dev.mplug.data.BadSampleException;
import dev.mplug.data.Box;
import dev.mplug.data.dataset.CaptionSample;
import dev.mplug.data.dataset.GroundingSample;
import dev.mplug.data.dataset.Nlvr2Sample;
import dev.mplug.data.dataset.PretrainSample;
import dev.mplug.data.dataset.RetrievalEvalSample;
import dev.mplug.data.dataset.RetrievalSample;
import dev.mplug.data.dataset.Sample;
import dev.mplug.data.dataset.SnliVeSample;
import dev.mplug.data.dataset.Task;
import dev.mplug.data.dataset.VideoCaptionSample;
import dev.mplug.data.dataset.VideoQaSample;
import dev.mplug.data.dataset.VqaSample;
import dev.mplug.data.proto.Media;
import dev.mplug.data.proto.Record;
import java.util.List;
import java.util.Objects;

/** Task samples to shard records and back; the media travel as the original file bytes. */
public final class RecordCodec {
  private RecordCodec() {}

  /** The record of {@code sample} with {@code media} = the bytes of {@code sample.media()}, in order. */
  public static Record encode(Sample sample, String source, List<byte[]> media) {
    List<String> names = sample.media();
    if (names.size() != media.size()) {
      throw new IllegalArgumentException(source + ": " + names.size() + " media paths but " + media.size() + " blobs");
    }
    Record.Builder r = Record.newBuilder().setTask(sample.task().cliName()).setSource(source);
    for (int i = 0; i < names.size(); i++) {
      r.addMedia(Media.newBuilder().setName(names.get(i)).setData(ByteString.copyFrom(media.get(i))));
    }
    switch (sample) {
      case PretrainSample s -> r.addAllCaptions(s.captions());
      case CaptionSample s -> r.addAllCaptions(s.captions()).setImageId(s.imageId());
      case VqaSample s -> r.setQuestionId(s.questionId()).setQuestion(s.question()).addAllAnswers(s.answers())
          .addAllAnswerWeights(s.weights()).setDataset(s.dataset()).addAllOcr(s.ocr())
          .addAllObjectLabels(s.objectLabels());
      case RetrievalSample s -> r.addCaptions(s.caption()).setImageId(s.imageId()).setImageIndex(s.imageIndex());
      case RetrievalEvalSample s -> r.addAllCaptions(s.captions()).setImageIndex(s.imageIndex())
          .setFirstText(s.firstText());
      case GroundingSample s -> {
        r.addCaptions(s.text()).setRefId(s.refId());
        for (double v : s.box().xywh()) r.addBbox(v);
      }
      case VideoCaptionSample s -> r.addAllCaptions(s.captions());
      case VideoQaSample s -> r.setQuestion(s.question()).addAnswers(s.answer());
      case Nlvr2Sample s -> r.addCaptions(s.sentence()).setLabel(s.label() ? 1 : 0);
      case SnliVeSample s -> r.addCaptions(s.sentence()).setLabel(s.label().classId());
    }
    return r.build();
  }

  /** The sample a record holds; a record that does not fit its task throws {@link BadSampleException}. */
  public static Sample decode(Record r, String source) {
    Task task;
    try {
      task = Task.named(r.getTask());
    } catch (IllegalArgumentException e) {
      throw new BadSampleException(source, "record of unknown task \"" + r.getTask() + "\"");
    }
    try {
      return switch (task) {
        case PRETRAIN -> new PretrainSample(media(r, 0), nonEmpty(r.getCaptionsList(), "captions"));
        case CAPTION -> new CaptionSample(media(r, 0), nonEmpty(r.getCaptionsList(), "captions"), r.getImageId());
        case VQA -> new VqaSample(r.getQuestionId(), r.getQuestion(), r.getAnswersList(), r.getAnswerWeightsList(),
            media(r, 0), r.getDataset(), r.getOcrList(), r.getObjectLabelsList());
        case RETRIEVAL -> new RetrievalSample(media(r, 0), one(r.getCaptionsList(), "captions"), r.getImageId(),
            r.getImageIndex());
        case RETRIEVAL_EVAL -> new RetrievalEvalSample(media(r, 0), nonEmpty(r.getCaptionsList(), "captions"),
            r.getImageIndex(), r.getFirstText());
        case GROUNDING -> {
          if (r.getBboxCount() != 4) throw new IllegalArgumentException("bbox has " + r.getBboxCount() + " values");
          yield new GroundingSample(media(r, 0), one(r.getCaptionsList(), "captions"),
              Box.ofXywh(r.getBbox(0), r.getBbox(1), r.getBbox(2), r.getBbox(3)), r.getRefId());
        }
        case VIDEO_CAPTION -> new VideoCaptionSample(media(r, 0), nonEmpty(r.getCaptionsList(), "captions"));
        case VIDEO_QA -> new VideoQaSample(media(r, 0), r.getQuestion(), one(r.getAnswersList(), "answers"));
        case NLVR2 -> new Nlvr2Sample(List.of(media(r, 0), media(r, 1)), one(r.getCaptionsList(), "captions"),
            r.getLabel() == 1);
        case SNLI_VE -> new SnliVeSample(media(r, 0), one(r.getCaptionsList(), "captions"),
            SnliVeSample.Entailment.values()[Objects.checkIndex(r.getLabel(), 3)]);
      };
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      throw new BadSampleException(source, "record does not fit task " + task + ": " + e.getMessage());
    }
  }

  private static String media(Record r, int i) {
    if (i >= r.getMediaCount()) throw new IllegalArgumentException("missing media " + i);
    return r.getMedia(i).getName();
  }

  private static List<String> nonEmpty(List<String> values, String what) {
    if (values.isEmpty()) throw new IllegalArgumentException("no " + what);
    return values;
  }

  private static String one(List<String> values, String what) {
    if (values.size() != 1) throw new IllegalArgumentException(what + " has " + values.size() + " entries, not 1");
    return values.get(0);
  }
}
