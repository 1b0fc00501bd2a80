package dev.mplug.data.loader;

import dev.mplug.data.dataset.CaptionSample;
import dev.mplug.data.dataset.GroundingSample;
import dev.mplug.data.dataset.MediaRef;
import dev.mplug.data.dataset.Nlvr2Sample;
import dev.mplug.data.dataset.PretrainSample;
import dev.mplug.data.dataset.RetrievalEvalSample;
import dev.mplug.data.dataset.RetrievalSample;
import dev.mplug.data.dataset.SnliVeSample;
import dev.mplug.data.dataset.VideoCaptionSample;
import dev.mplug.data.dataset.VideoQaSample;
import dev.mplug.data.dataset.VqaSample;
import dev.mplug.data.text.TextCleaning;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.random.RandomGenerator;

/**
 * The per-sample function of every task: media through a {@link MediaFunction}, text cleaned as the official
 * datasets do (pre_caption for captions and sentences, pre_question for questions, the OCR/object context appended
 * to VQA questions, lower-casing for referring expressions), targets taken from the sample.
 *
 * <p>Grounding boxes stay in the pixels of the original image: a grounding pipeline whose image transform moves the
 * box (letterboxing, crops, flips) uses {@link GroundingPreparation}, which transforms image and box together.
 */
public final class TaskPreparation<I> implements SampleFunction<Example<I>> {
  private final MediaFunction<I> mediaFunction;
  private final TextOptions options;

  public TaskPreparation(MediaFunction<I> mediaFunction, TextOptions options) {
    this.mediaFunction = mediaFunction;
    this.options = options;
  }

  @Override
  public Example<I> apply(LoadedSample loaded, RandomGenerator rng) {
    List<I> media = new ArrayList<>(loaded.media().size());
    for (MediaRef ref : loaded.media()) media.add(mediaFunction.apply(ref, rng));
    return switch (loaded.sample()) {
      case PretrainSample s -> example(media, caption(pick(s.captions(), rng)), -1, s.image());
      case CaptionSample s -> example(media, caption(pick(s.captions(), rng)), -1, s.imageId());
      case RetrievalSample s -> example(media, caption(s.caption()), s.imageIndex(), s.imageId());
      case RetrievalEvalSample s -> example(media, null, s.imageIndex(), s.image());
      case VqaSample s -> new Example<>(media, question(s), s.answers(), s.weights(), -1, null,
          Long.toString(s.questionId()));
      case GroundingSample s -> new Example<>(media, s.text().toLowerCase(Locale.ROOT), List.of(), List.of(), -1,
          s.box(), Long.toString(s.refId()));
      case VideoCaptionSample s -> example(media, caption(pick(s.captions(), rng)), -1, s.video());
      case VideoQaSample s -> new Example<>(media, TextCleaning.preQuestion(s.question(), options.maxQuestionWords()),
          List.of(s.answer()), List.of(1.0), -1, null, s.video());
      case Nlvr2Sample s -> nlvr2(s, media, rng);
      case SnliVeSample s -> example(media, caption(s.sentence()), s.label().classId(), s.image());
    };
  }

  private Example<I> example(List<I> media, String text, long label, String id) {
    return new Example<>(media, text, List.of(), List.of(), label, null, id);
  }

  private String caption(String text) {
    return TextCleaning.preCaption(text, options.maxCaptionWords());
  }

  /** The cleaned question, then the OCR tokens and object labels after " [SEP] " (never cleaned away). */
  private String question(VqaSample s) {
    String q = TextCleaning.preQuestion(s.question(), options.maxQuestionWords());
    return q + s.questionWithContext(options.addOcr(), options.addObjects(), options.maxQuestionWords())
        .substring(s.question().length());
  }

  private String pick(List<String> captions, RandomGenerator rng) {
    boolean draw = options.randomCaption() && captions.size() > 1;
    return draw ? captions.get(rng.nextInt(captions.size())) : captions.get(0);
  }

  /** ALBEF's NLVR2 augmentation: half the time the images swap, and "left"/"right" swap with them. */
  private Example<I> nlvr2(Nlvr2Sample s, List<I> media, RandomGenerator rng) {
    String sentence = caption(s.sentence());
    long label = s.label() ? 1 : 0;
    if (!options.nlvr2Swap() || rng.nextDouble() >= 0.5) return example(media, sentence, label, s.images().get(0));
    String[] words = sentence.split(" ", -1);
    for (int i = 0; i < words.length; i++) {
      if (words[i].equals("left")) {
        words[i] = "right";
      } else if (words[i].equals("right")) {
        words[i] = "left";
      }
    }
    return example(List.of(media.get(1), media.get(0)), String.join(" ", words), label, s.images().get(0));
  }
}
