package dev.mplug.data.synth;

import dev.mplug.data.Box;
import dev.mplug.data.synth.Vocabulary.Colour;
import dev.mplug.data.synth.Vocabulary.Direction;
import dev.mplug.data.synth.Vocabulary.Shape;
import dev.mplug.data.synth.Vocabulary.Size;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A short video of the shapes world: one or two figures, each sliding in a straight line (left, right, up or down) by
 * {@value #TRAVEL} of the frame side over the clip, on a still background. Paths never cross, so every frame is a
 * valid {@link Scene}; the figures of a clip differ in colour, so "the red one" is always unambiguous.
 */
public record Clip(int size, Backdrop backdrop, List<Figure> starts, List<Direction> directions, int distance,
    int frames) {
  public static final double TRAVEL = 0.35;

  public Clip {
    starts = List.copyOf(starts);
    directions = List.copyOf(directions);
    if (starts.size() != directions.size()) throw new IllegalArgumentException("one direction per figure");
    if (frames < 2) throw new IllegalArgumentException("a clip needs >= 2 frames, got " + frames);
  }

  /** The scene at frame {@code t} (0..frames-1): figure k at start + direction * distance * t / (frames - 1). */
  public Scene frame(int t) {
    List<Figure> fs = new ArrayList<>(starts.size());
    for (int k = 0; k < starts.size(); k++) {
      Figure f = starts.get(k);
      Direction d = directions.get(k);
      int step = (int) Math.round((double) distance * t / (frames - 1));
      fs.add(f.movedTo(f.cx() + d.dx * step, f.cy() + d.dy * step));
    }
    return new Scene(size, backdrop, fs);
  }

  public static Clip sample(RandomGenerator rng, int size, int frames) {
    Backdrop backdrop = Scenes.backdrop(rng);
    int distance = (int) Math.round(TRAVEL * size);
    int wanted = 1 + rng.nextInt(2);
    List<Figure> starts = new ArrayList<>();
    List<Direction> directions = new ArrayList<>();
    List<Box> paths = new ArrayList<>(); // the area each placed figure sweeps, kept apart
    for (int k = 0; k < wanted; k++) {
      Shape shape;
      Colour colour;
      do {
        shape = Shape.values()[rng.nextInt(Shape.values().length)];
        colour = Colour.values()[rng.nextInt(Colour.values().length)];
      } while (taken(starts, colour));
      Size sz = Size.values()[rng.nextInt(Size.values().length)];
      Direction d = Direction.values()[rng.nextInt(Direction.values().length)];
      boolean placed = false;
      for (int t = 0; t < 100 && !placed; t++) {
        double fraction = sz.minFraction + (sz.maxFraction - sz.minFraction) * rng.nextDouble();
        int radius = Math.max(2, (int) Math.round(fraction * size));
        int lo = radius + 1;
        int hi = size - radius - 2;
        if (hi <= lo) break;
        Figure start = new Figure(shape, colour, sz, lo + rng.nextInt(hi - lo), lo + rng.nextInt(hi - lo), radius);
        Figure end = start.movedTo(start.cx() + d.dx * distance, start.cy() + d.dy * distance);
        Box sweep = sweep(start.box(), end.box());
        if (Scenes.inside(sweep, size) && apartFromAll(sweep, paths, Math.max(2, size / 32))) {
          starts.add(start);
          directions.add(d);
          paths.add(sweep);
          placed = true;
        }
      }
      if (!placed) break;
    }
    if (starts.isEmpty()) throw new IllegalArgumentException("frame of " + size + " px too small for a moving shape");
    return new Clip(size, backdrop, starts, directions, distance, frames);
  }

  /** The box covering a straight path from box {@code a} to box {@code b}. */
  private static Box sweep(Box a, Box b) {
    return new Box(Math.min(a.x1(), b.x1()), Math.min(a.y1(), b.y1()), Math.max(a.x2(), b.x2()),
        Math.max(a.y2(), b.y2()));
  }

  private static boolean apartFromAll(Box b, List<Box> others, int gap) {
    for (Box o : others) {
      if (!Scenes.apart(b, o, gap)) return false;
    }
    return true;
  }

  private static boolean taken(List<Figure> fs, Colour c) {
    for (Figure f : fs) if (f.colour() == c) return true;
    return false;
  }
}
