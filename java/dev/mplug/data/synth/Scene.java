package dev.mplug.data.synth;

import java.util.List;

/** A square picture of the shapes world: its side in pixels, background and figures (back to front). */
public record Scene(int size, Backdrop backdrop, List<Figure> figures) {
  public Scene {
    if (size < 16) throw new IllegalArgumentException("scene size must be >= 16 pixels, got " + size);
    figures = List.copyOf(figures);
  }
}
