package dev.mplug.data.video;

import dev.mplug.data.BadSampleException;
import dev.mplug.data.image.Images;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * A video stored as a folder of numbered still frames, one JPEG or PNG per frame ({@code 00001.jpg},
 * {@code frame_2.png}, ...), ordered by the last number in each name. It is how a video this OpenCV build cannot
 * decode (H.264 {@code .mp4}: the build has no FFmpeg) is given to the video tasks, after extracting the frames with
 * {@link #FFMPEG_COMMAND}. Only the sampled frames are decoded.
 */
public final class FrameFolder {
  /** The command that turns {@code clip.mp4} into the frame folder {@code clip/} (4 frames a second). */
  public static final String FFMPEG_COMMAND =
      "mkdir -p CLIP && ffmpeg -i CLIP.mp4 -vf fps=4 -q:v 2 CLIP/%05d.jpg";

  private static final Pattern NUMBER = Pattern.compile("(\\d+)(?!.*\\d)");
  /** Digit strings without leading zeros by numeric value, however long: shorter first, then by digits. */
  private static final Comparator<String> BY_VALUE =
      Comparator.comparingInt(String::length).thenComparing(Comparator.naturalOrder());

  private FrameFolder() {}

  /** The frame files of {@code folder} in frame order; a folder with no JPEG or PNG frame is a bad sample. */
  public static List<Path> frames(Path folder) {
    List<Path> frames;
    try (Stream<Path> files = Files.list(folder)) {
      frames = new ArrayList<>(files.filter(FrameFolder::isFrame).toList());
    } catch (IOException e) {
      throw new BadSampleException(folder.toString(), "cannot list the frame folder: " + e.getMessage(), e);
    }
    if (frames.isEmpty()) throw new BadSampleException(folder.toString(), "frame folder holds no .jpg or .png frame");
    frames.sort(Comparator.comparing(FrameFolder::number, BY_VALUE).thenComparing(p -> p.getFileName().toString()));
    return frames;
  }

  /** {@code n} RGB frames spread uniformly through the folder ({@link VideoFrames#uniformIndices}). */
  public static List<Mat> sample(Path folder, int n) {
    List<Path> frames = frames(folder);
    List<Mat> out = new ArrayList<>(n);
    try {
      for (long i : VideoFrames.uniformIndices(frames.size(), n)) out.add(Images.read(frames.get((int) i)));
    } catch (RuntimeException e) {
      out.forEach(Mat::close);
      throw e;
    }
    return out;
  }

  private static boolean isFrame(Path p) {
    String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
    return Files.isRegularFile(p) && (name.endsWith(".jpg") || name.endsWith(".jpeg") || name.endsWith(".png"));
  }

  /** The last number in the file name without leading zeros (empty when none: such frames sort first, by name). */
  private static String number(Path p) {
    Matcher m = NUMBER.matcher(p.getFileName().toString());
    return m.find() ? m.group(1).replaceFirst("^0+(?=.)", "") : "";
  }
}
