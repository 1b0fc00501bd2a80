package dev.mplug.experiment;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Bar charts of figures measured over several seeds, written as PNG with Java2D in {@link LinePlot}'s style: one panel
 * per figure in a grid, one bar per group (its mean) in the group's colour, a whisker from the smallest to the
 * largest seed and a dot per seed, a linear y axis from zero, and one legend of the groups for all panels.
 */
public final class BarPlot {
  /** One figure: its title and, per group in legend order, the values of its seeds (at least one). */
  public record Panel(String title, List<double[]> values) {
    public Panel {
      values = List.copyOf(values);
      for (double[] v : values) {
        if (v.length == 0) throw new IllegalArgumentException(title + ": a bar without values");
      }
    }
  }

  private static final int PANEL_WIDTH = 380;
  private static final int PANEL_HEIGHT = 280;
  private static final int COLUMNS = 3;
  private static final int TOP = 50;
  private static final int LEGEND_WIDTH = 320;
  private static final int MARGIN = 50;

  private BarPlot() {}

  /** Writes the panels to {@code png}; every panel has one entry per name in {@code groups}. */
  public static void write(Path png, String title, List<String> groups, List<Panel> panels) throws IOException {
    if (groups.isEmpty() || groups.size() > LinePlot.COLOURS.size()) {
      throw new IllegalArgumentException("plot " + png + ": 1.." + LinePlot.COLOURS.size() + " groups, got "
          + groups.size());
    }
    for (Panel p : panels) {
      if (p.values().size() != groups.size()) {
        throw new IllegalArgumentException("plot " + png + ": panel " + p.title() + " has " + p.values().size()
            + " bars for " + groups.size() + " groups");
      }
    }
    int rows = (panels.size() + COLUMNS - 1) / COLUMNS;
    int width = COLUMNS * PANEL_WIDTH + LEGEND_WIDTH;
    int height = TOP + rows * PANEL_HEIGHT;
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, width, height);
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
      g.drawString(title, 20, 28);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      for (int i = 0; i < panels.size(); i++) {
        panel(g, panels.get(i), (i % COLUMNS) * PANEL_WIDTH, TOP + (i / COLUMNS) * PANEL_HEIGHT);
      }
      for (int k = 0; k < groups.size(); k++) {
        int ly = TOP + 20 + 22 * k;
        g.setColor(LinePlot.COLOURS.get(k));
        g.fillRect(COLUMNS * PANEL_WIDTH + 10, ly - 9, 14, 14);
        g.setColor(Color.BLACK);
        g.drawString(groups.get(k), COLUMNS * PANEL_WIDTH + 32, ly + 3);
      }
      g.drawString("bar: mean; whisker: min-max;", COLUMNS * PANEL_WIDTH + 10, TOP + 40 + 22 * groups.size());
      g.drawString("dots: one per seed", COLUMNS * PANEL_WIDTH + 10, TOP + 56 + 22 * groups.size());
    } finally {
      g.dispose();
    }
    if (!ImageIO.write(image, "png", png.toFile())) throw new IOException("no PNG writer for " + png);
  }

  /** One panel with its top-left corner at (x0, y0). */
  private static void panel(Graphics2D g, Panel p, int x0, int y0) {
    int left = x0 + MARGIN, right = x0 + PANEL_WIDTH - 15, top = y0 + 30, bottom = y0 + PANEL_HEIGHT - 25;
    double max = 0;
    for (double[] v : p.values()) {
      for (double x : v) max = Math.max(max, x);
    }
    double yMax = niceCeiling(max);
    g.setColor(Color.BLACK);
    g.drawString(p.title(), left, y0 + 18);
    for (int t = 0; t <= 4; t++) {
      double v = yMax * t / 4;
      int y = at(v, yMax, top, bottom);
      g.setColor(new Color(0xdddddd));
      g.drawLine(left, y, right, y);
      g.setColor(Color.BLACK);
      g.drawString(number(v), x0 + 4, y + 4);
    }
    g.drawRect(left, top, right - left, bottom - top);
    int slot = (right - left) / p.values().size();
    for (int k = 0; k < p.values().size(); k++) {
      double[] v = p.values().get(k);
      double mean = 0, lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
      for (double x : v) {
        mean += x / v.length;
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
      int cx = left + slot * k + slot / 2, half = Math.max(2, slot * 3 / 10);
      int yMean = at(mean, yMax, top, bottom);
      g.setColor(LinePlot.COLOURS.get(k));
      g.fillRect(cx - half, yMean, 2 * half, bottom - yMean);
      g.setColor(Color.BLACK);
      g.drawLine(cx, at(lo, yMax, top, bottom), cx, at(hi, yMax, top, bottom));
      g.drawLine(cx - 4, at(lo, yMax, top, bottom), cx + 4, at(lo, yMax, top, bottom));
      g.drawLine(cx - 4, at(hi, yMax, top, bottom), cx + 4, at(hi, yMax, top, bottom));
      for (double x : v) g.fillOval(cx - 2, at(x, yMax, top, bottom) - 2, 5, 5);
    }
  }

  /** 1, 2 or 5 times a power of ten at or above {@code v} (1 for nothing above zero). */
  static double niceCeiling(double v) {
    if (!(v > 0)) return 1;
    double p = Math.pow(10, Math.floor(Math.log10(v)));
    for (int m : new int[] {1, 2, 5, 10}) {
      if (m * p >= v) return m * p;
    }
    return 10 * p;
  }

  private static int at(double v, double yMax, int top, int bottom) {
    return (int) Math.round(bottom - Math.max(0, v) / yMax * (bottom - top));
  }

  private static String number(double v) {
    return v == Math.rint(v) ? String.format(Locale.ROOT, "%d", (long) v) : String.format(Locale.ROOT, "%.3g", v);
  }
}
