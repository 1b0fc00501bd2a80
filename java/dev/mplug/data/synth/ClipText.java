package dev.mplug.data.synth;

import dev.mplug.data.synth.SceneText.Question;
import dev.mplug.data.synth.Vocabulary.Direction;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.random.RandomGenerator;

/** Captions and questions of a {@link Clip}: what moves, which way, in which colour, how many. */
public final class ClipText {
  /**
   * The prompt of the official VATEX captioning ("a picture of"): a world with clips has its words in vocab.txt, so
   * video captioning can start from it.
   */
  public static final String CAPTION_PROMPT = "a picture of";

  private ClipText() {}

  public static List<String> captions(Clip clip, RandomGenerator rng) {
    List<String> out = new ArrayList<>(2);
    StringBuilder moves = new StringBuilder();
    StringBuilder moving = new StringBuilder();
    for (int k = 0; k < clip.starts().size(); k++) {
      Figure f = clip.starts().get(k);
      String way = way(clip.directions().get(k));
      if (k > 0) {
        moves.append(" and ");
        moving.append(" and ");
      }
      moves.append(Vocabulary.a(f.fullName())).append(" moves ").append(way);
      moving.append(Vocabulary.a(f.name())).append(" moving ").append(way);
    }
    out.add(moves.toString());
    out.add(moving + " on a " + clip.backdrop().kind().adjective() + " background");
    if (rng.nextBoolean()) Collections.reverse(out);
    return out;
  }

  public static List<Question> questions(Clip clip, RandomGenerator rng) {
    List<Figure> fs = clip.starts();
    List<Question> qs = new ArrayList<>();
    qs.add(new Question("how many shapes are there?", Integer.toString(fs.size()), "count"));
    int k = rng.nextInt(fs.size());
    Figure f = fs.get(k);
    Direction d = clip.directions().get(k);
    qs.add(new Question("which direction does the " + f.name() + " move?", d.word(), "direction"));
    if (SceneText.countShape(fs, f.shape()) == 1) {
      qs.add(new Question("what color is the moving " + f.shape().word() + "?", f.colour().word(), "color"));
    }
    if (clip.directions().stream().filter(x -> x == d).count() == 1) {
      qs.add(new Question("what shape moves " + way(d) + "?", f.shape().word(), "shape"));
    }
    Direction asked = Direction.values()[rng.nextInt(Direction.values().length)];
    qs.add(new Question("is the " + f.name() + " moving " + way(asked) + "?", asked == d ? Vocabulary.YES
        : Vocabulary.NO, "direction"));
    return qs;
  }

  /** "to the left", "to the right", "up", "down". */
  static String way(Direction d) {
    return switch (d) {
      case LEFT, RIGHT -> "to the " + d.word();
      case UP, DOWN -> d.word();
    };
  }
}
