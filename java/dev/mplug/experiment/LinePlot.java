package dev.mplug.experiment;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A small log-log line chart written as PNG with Java2D (no plotting library on the JVM side): one line with markers
 * per series, both axes logarithmic with ticks at the data's x values and at powers of ten (and 2x, 5x) on y, a legend.
 */
public final class LinePlot {
  /** One line: its name and points (x, y > 0), in x order. */
  public record Series(String name, double[] x, double[] y) {
    public Series {
      if (x.length != y.length || x.length == 0) throw new IllegalArgumentException(name + ": x and y differ");
      for (int i = 0; i < x.length; i++) {
        if (!(x[i] > 0 && y[i] > 0)) throw new IllegalArgumentException(name + ": log axes need values > 0");
      }
    }
  }

  /** Distinct colours for up to 8 series. */
  public static final List<Color> COLOURS = List.of(new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
      new Color(0x9467bd), new Color(0xff7f0e), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf));

  private static final int WIDTH = 900;
  private static final int HEIGHT = 600;
  private static final int LEFT = 90;
  private static final int RIGHT = 260;
  private static final int TOP = 50;
  private static final int BOTTOM = 70;

  private LinePlot() {}

  public static void write(Path png, String title, String xLabel, String yLabel, List<Series> series)
      throws IOException {
    if (series.isEmpty() || series.size() > COLOURS.size()) {
      throw new IllegalArgumentException("plot " + png + ": 1.." + COLOURS.size() + " series, got " + series.size());
    }
    double xMin = Double.MAX_VALUE, xMax = 0, yMin = Double.MAX_VALUE, yMax = 0;
    for (Series s : series) {
      for (int i = 0; i < s.x().length; i++) {
        xMin = Math.min(xMin, s.x()[i]);
        xMax = Math.max(xMax, s.x()[i]);
        yMin = Math.min(yMin, s.y()[i]);
        yMax = Math.max(yMax, s.y()[i]);
      }
    }
    Axis x = new Axis(xMin / 1.15, xMax * 1.15, LEFT, WIDTH - RIGHT);
    Axis y = new Axis(yMin / 1.3, yMax * 1.3, HEIGHT - BOTTOM, TOP);
    BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, WIDTH, HEIGHT);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
      g.setColor(new Color(0xdddddd));
      for (double v : series.get(0).x()) g.drawLine(x.at(v), TOP, x.at(v), HEIGHT - BOTTOM);
      for (double v : yTicks(y)) g.drawLine(LEFT, y.at(v), WIDTH - RIGHT, y.at(v));
      g.setColor(Color.BLACK);
      g.drawRect(LEFT, TOP, WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
      for (double v : series.get(0).x()) g.drawString(number(v), x.at(v) - 12, HEIGHT - BOTTOM + 18);
      for (double v : yTicks(y)) g.drawString(number(v), 8, y.at(v) + 5);
      g.drawString(xLabel, LEFT + 10, HEIGHT - 20);
      g.drawString(yLabel, 8, TOP - 12);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
      g.drawString(title, LEFT, 28);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
      g.setStroke(new BasicStroke(2f));
      for (int k = 0; k < series.size(); k++) {
        Series s = series.get(k);
        g.setColor(COLOURS.get(k));
        for (int i = 0; i < s.x().length; i++) {
          int px = x.at(s.x()[i]), py = y.at(s.y()[i]);
          g.fillOval(px - 4, py - 4, 9, 9);
          if (i > 0) g.drawLine(x.at(s.x()[i - 1]), y.at(s.y()[i - 1]), px, py);
        }
        int ly = TOP + 10 + 22 * k;
        g.fillRect(WIDTH - RIGHT + 20, ly, 24, 4);
        g.setColor(Color.BLACK);
        g.drawString(s.name(), WIDTH - RIGHT + 52, ly + 7);
      }
    } finally {
      g.dispose();
    }
    if (!ImageIO.write(image, "png", png.toFile())) throw new IOException("no PNG writer for " + png);
  }

  /** 1, 2, 5 x powers of ten inside the axis. */
  private static List<Double> yTicks(Axis y) {
    List<Double> out = new ArrayList<>();
    for (int e = (int) Math.floor(Math.log10(y.min)); e <= (int) Math.ceil(Math.log10(y.max)); e++) {
      for (int m : new int[] {1, 2, 5}) {
        double v = m * Math.pow(10, e);
        if (v >= y.min && v <= y.max) out.add(v);
      }
    }
    return out;
  }

  private static String number(double v) {
    if (v >= 1 && v == Math.rint(v)) return String.format(Locale.ROOT, "%d", (long) v);
    return String.format(Locale.ROOT, "%.3g", v);
  }

  /** A logarithmic axis from data values to pixels. */
  private record Axis(double min, double max, int from, int to) {
    int at(double v) {
      double t = (Math.log(v) - Math.log(min)) / (Math.log(max) - Math.log(min));
      return (int) Math.round(from + t * (to - from));
    }
  }
}
