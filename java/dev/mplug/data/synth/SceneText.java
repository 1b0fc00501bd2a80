package dev.mplug.data.synth;

import dev.mplug.data.Box;
import dev.mplug.data.synth.Vocabulary.Colour;
import dev.mplug.data.synth.Vocabulary.Horizontal;
import dev.mplug.data.synth.Vocabulary.Shape;
import dev.mplug.data.synth.Vocabulary.Vertical;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * What can be said about a scene, all of it true by construction: captions (every one names the colour and shape of
 * every figure), VQA questions with answers (count, colour, shape, size, position as left/middle/right, yes/no), and one referring
 * expression per figure that picks it out uniquely. Lower case, no punctuation in captions (the official caption
 * cleaning would strip it anyway); questions end with "?" as VQA's do.
 */
public final class SceneText {
  private SceneText() {}

  /** A question with its single answer and its kind (count, color, shape, size, position, exists, relation). */
  public record Question(String question, String answer, String kind) {}

  /** A referring expression for figure {@code figure} of the scene. */
  public record Expression(String text, int figure) {}

  /** Three captions: spatial, background, and the counted list. */
  public static List<String> captions(Scene scene, RandomGenerator rng) {
    List<Figure> fs = scene.figures();
    int n = fs.size();
    List<String> out = new ArrayList<>(3);
    // 1. where things are
    if (n == 1) {
      out.add(Vocabulary.a(fs.getFirst().fullName()) + " " + place(fs.getFirst(), scene.size()));
    } else if (n == 2) {
      boolean swap = rng.nextBoolean();
      Figure a = fs.get(swap ? 1 : 0);
      Figure b = fs.get(swap ? 0 : 1);
      out.add(Vocabulary.a(a.fullName()) + " " + relation(a, b) + " " + Vocabulary.a(b.fullName()));
    } else {
      List<Figure> byX = new ArrayList<>(fs);
      byX.sort(Comparator.comparingInt(Figure::cx));
      out.add(join(byX, true) + " from left to right");
    }
    // 2. what, on which background
    out.add(join(shuffled(fs, rng), false) + " on a " + scene.backdrop().kind().adjective() + " background");
    // 3. how many
    out.add(Vocabulary.NUMBER_WORDS[n] + (n == 1 ? " shape " : " shapes ") + join(shuffled(fs, rng), true));
    return out;
  }

  /** Questions with answers; {@code rng} picks the figures asked about and the absent colour-shape pairs. */
  public static List<Question> questions(Scene scene, RandomGenerator rng) {
    List<Figure> fs = scene.figures();
    int size = scene.size();
    List<Question> qs = new ArrayList<>();
    qs.add(new Question("how many shapes are there?", Integer.toString(fs.size()), "count"));

    Figure f = fs.get(rng.nextInt(fs.size()));
    if (countShape(fs, f.shape()) == 1) {
      qs.add(new Question("what color is the " + f.shape().word() + "?", f.colour().word(), "color"));
    }
    if (countColour(fs, f.colour()) == 1) {
      qs.add(new Question("what shape is the " + f.colour().word() + " object?", f.shape().word(), "shape"));
    }
    qs.add(new Question("is the " + f.name() + " big or small?", f.size().word(), "size"));
    if (f.clearlyInThird(size, size * 0.04)) {
      qs.add(new Question("where is the " + f.name() + "?", f.horizontal(size).word(), "position"));
    }

    Colour c = rng.nextBoolean() ? fs.get(rng.nextInt(fs.size())).colour()
        : Colour.values()[rng.nextInt(Colour.values().length)];
    qs.add(new Question("how many " + c.word() + " shapes are there?", Integer.toString(countColour(fs, c)),
        "count"));

    if (rng.nextBoolean()) {
      Figure p = fs.get(rng.nextInt(fs.size()));
      qs.add(new Question("is there " + Vocabulary.a(p.name()) + "?", Vocabulary.YES, "exists"));
    } else {
      Shape s;
      Colour col;
      do {
        s = Shape.values()[rng.nextInt(Shape.values().length)];
        col = Colour.values()[rng.nextInt(Colour.values().length)];
      } while (present(fs, s, col));
      qs.add(new Question("is there " + Vocabulary.a(col.word() + " " + s.word()) + "?", Vocabulary.NO, "exists"));
    }

    if (fs.size() >= 2) {
      int i = rng.nextInt(fs.size());
      int j = (i + 1 + rng.nextInt(fs.size() - 1)) % fs.size();
      Figure a = fs.get(i);
      Figure b = fs.get(j);
      Box ba = a.box();
      Box bb = b.box();
      if (ba.x2() <= bb.x1() || bb.x2() <= ba.x1()) { // apart horizontally: the answer is unambiguous
        qs.add(new Question("is the " + a.name() + " on the left of the " + b.name() + "?",
            ba.x2() <= bb.x1() ? Vocabulary.YES : Vocabulary.NO, "relation"));
      }
    }
    return qs;
  }

  /** One expression per figure, chosen at random among those that single it out. */
  public static List<Expression> expressions(Scene scene, RandomGenerator rng) {
    List<Figure> fs = scene.figures();
    List<Expression> out = new ArrayList<>(fs.size());
    for (int k = 0; k < fs.size(); k++) {
      Figure f = fs.get(k);
      List<String> options = new ArrayList<>();
      options.add("the " + f.name());
      options.add("the " + f.fullName());
      if (countShape(fs, f.shape()) == 1) options.add("the " + f.shape().word());
      if (countColour(fs, f.colour()) == 1) options.add("the " + f.colour().word() + " object");
      if (f.clearlyInThird(scene.size(), scene.size() * 0.04) && f.horizontal(scene.size()) != Horizontal.MIDDLE) {
        options.add("the " + f.name() + " on the " + f.horizontal(scene.size()).word());
      }
      out.add(new Expression(options.get(rng.nextInt(options.size())), k));
    }
    return out;
  }

  /** "on the left", "at the top right", "in the middle". */
  static String place(Figure f, int size) {
    Horizontal h = f.horizontal(size);
    Vertical v = f.vertical(size);
    if (h == Horizontal.MIDDLE && v == Vertical.MIDDLE) return "in the middle";
    if (v == Vertical.MIDDLE) return "on the " + h.word();
    if (h == Horizontal.MIDDLE) return "at the " + v.word();
    return "at the " + v.word() + " " + h.word();
  }

  /** How a stands to b: the figures never overlap, so their boxes are apart along x or y. */
  static String relation(Figure a, Figure b) {
    Box ba = a.box();
    Box bb = b.box();
    if (ba.x2() <= bb.x1()) return "on the left of";
    if (bb.x2() <= ba.x1()) return "on the right of";
    return ba.y2() <= bb.y1() ? "above" : "below";
  }

  private static String join(List<Figure> fs, boolean withSize) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < fs.size(); i++) {
      if (i > 0) s.append(" and ");
      s.append(Vocabulary.a(withSize ? fs.get(i).fullName() : fs.get(i).name()));
    }
    return s.toString();
  }

  private static List<Figure> shuffled(List<Figure> fs, RandomGenerator rng) {
    List<Figure> out = new ArrayList<>(fs);
    for (int i = out.size() - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      Figure t = out.get(i);
      out.set(i, out.get(j));
      out.set(j, t);
    }
    return out;
  }

  static int countShape(List<Figure> fs, Shape s) {
    int n = 0;
    for (Figure f : fs) if (f.shape() == s) n++;
    return n;
  }

  static int countColour(List<Figure> fs, Colour c) {
    int n = 0;
    for (Figure f : fs) if (f.colour() == c) n++;
    return n;
  }

  private static boolean present(List<Figure> fs, Shape s, Colour c) {
    for (Figure f : fs) if (f.shape() == s && f.colour() == c) return true;
    return false;
  }
}
