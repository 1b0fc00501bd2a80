package dev.mplug.data.video;

import dev.mplug.data.BadSampleException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.global.opencv_videoio;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Size;
import org.bytedeco.opencv.opencv_videoio.VideoCapture;
import org.bytedeco.opencv.opencv_videoio.VideoWriter;

/**
 * Frames of a video through OpenCV's VideoCapture, sampled uniformly as the video tasks read them (spec §3).
 *
 * <p>Frame i of n is frame {@code floor(i * count / n)}: evenly spaced from the first frame. (The official
 * {@code np.arange(0, vlen, vlen / n, dtype=int)} truncates the step to an integer, so for 30 frames and n = 8 it stops
 * at frame 21; this class spreads the samples over the whole clip.) Frames are read sequentially (grab, and retrieve
 * only the wanted ones) because seeking in compressed streams is not frame-exact.
 *
 * <p>Backends: the OpenCV build of the JavaCPP presets has no FFmpeg; it reads and writes Motion-JPEG AVI with its
 * built-in codec, which is what {@link #writeMjpeg} produces. Other videos (the official datasets' {@code .mp4}) are
 * read as {@link FrameFolder}s of extracted frames.
 */
public final class VideoFrames {
  private VideoFrames() {}

  /**
   * {@code n} RGB {@code CV_8UC3} frames spread uniformly through {@code video}; the caller closes them. {@code video}
   * is a Motion-JPEG AVI file or a {@link FrameFolder}; a path without such a file or folder (the official annotations
   * name clips without extension, e.g. MSRVTT's {@code video7010}) is looked up as {@code video/} (frame folder), then
   * {@code video.avi}. An {@code .mp4} is refused with the command that converts it to a frame folder.
   */
  public static List<Mat> sample(Path video, int n) {
    if (n <= 0) throw new IllegalArgumentException("number of frames must be > 0, got " + n);
    Path clip = resolve(video);
    return Files.isDirectory(clip) ? FrameFolder.sample(clip, n) : sample(clip, clip.toString(), n);
  }

  /**
   * Where the frames of {@code video} are: the folder or file itself, else {@code video.avi}; a missing clip or an
   * {@code .mp4} (which this build cannot decode) is a bad sample whose reason says what to do.
   */
  public static Path resolve(Path video) {
    String name = video.getFileName().toString();
    if (isMp4(name)) throw mp4(video, video.resolveSibling(name.substring(0, name.length() - 4)));
    if (Files.exists(video)) return video;
    Path avi = video.resolveSibling(name + ".avi");
    if (Files.isRegularFile(avi)) return avi;
    if (Files.isRegularFile(video.resolveSibling(name + ".mp4"))) {
      throw mp4(video.resolveSibling(name + ".mp4"), video);
    }
    throw new BadSampleException(video.toString(), "video not found (looked for the file, a frame folder of that "
        + "name and " + avi.getFileName() + ")");
  }

  private static boolean isMp4(String name) {
    return name.toLowerCase(Locale.ROOT).endsWith(".mp4");
  }

  private static BadSampleException mp4(Path mp4, Path folder) {
    return new BadSampleException(mp4.toString(), "cannot decode .mp4 (this OpenCV build has no FFmpeg): extract its "
        + "frames to the folder " + folder.getFileName() + "/ with `" + FrameFolder.FFMPEG_COMMAND.replace("CLIP",
        folder.getFileName().toString()) + "` and name the clip without extension");
  }

  /**
   * {@link #sample(Path, int)} for a video held in memory (a shard record): OpenCV's VideoCapture reads only files, so
   * the bytes go through a temporary file, deleted before returning.
   */
  public static List<Mat> sample(byte[] video, String source, int n) {
    if (video.length == 0) throw new BadSampleException(source, "empty video (0 bytes)");
    Path tmp = null;
    try {
      tmp = Files.createTempFile("mplug-video-", ".avi");
      Files.write(tmp, video);
      return sample(tmp, source, n);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write a temporary file for video " + source + ": " + e.getMessage(), e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // a leftover temporary file is harmless
        }
      }
    }
  }

  private static List<Mat> sample(Path video, String source, int n) {
    if (n <= 0) throw new IllegalArgumentException("number of frames must be > 0, got " + n);
    if (!Files.isRegularFile(video)) throw new BadSampleException(source, "video file not found");
    Loader.load(opencv_videoio.class);
    try (VideoCapture capture = new VideoCapture(video.toString(), opencv_videoio.CAP_ANY)) {
      if (!capture.isOpened()) {
        throw new BadSampleException(source, "OpenCV cannot open the video (not a video, or a codec this build "
            + "lacks: it reads Motion-JPEG AVI; give other videos as frame folders: " + FrameFolder.FFMPEG_COMMAND
            + ")");
      }
      long count = Math.round(capture.get(opencv_videoio.CAP_PROP_FRAME_COUNT));
      return count > 0 ? sampleCounted(capture, count, n, source) : sampleUncounted(capture, n, source);
    }
  }

  /** The indices {@code floor(i * count / n)}, i = 0..n-1 (repeated frames when the clip is shorter than n). */
  public static long[] uniformIndices(long count, int n) {
    long[] idx = new long[n];
    for (int i = 0; i < n; i++) idx[i] = (long) i * count / n;
    return idx;
  }

  private static List<Mat> sampleCounted(VideoCapture capture, long count, int n, String source) {
    long[] wanted = uniformIndices(count, n);
    List<Mat> frames = new ArrayList<>(n);
    try (Mat frame = new Mat()) {
      long next = 0; // index of the frame the next grab() returns
      for (long target : wanted) {
        if (target < next) { // repeated index: the clip has fewer frames than n
          frames.add(frames.getLast().clone());
          continue;
        }
        while (next <= target) {
          if (!capture.grab()) {
            closeAll(frames);
            throw new BadSampleException(source, "video ends at frame " + next + " but its header says " + count
                + " frames (truncated?)");
          }
          next++;
        }
        if (!capture.retrieve(frame) || frame.empty()) {
          closeAll(frames);
          throw new BadSampleException(source, "cannot decode frame " + target + " (corrupt video)");
        }
        frames.add(toRgb(frame));
      }
    }
    return frames;
  }

  // Some containers do not state a frame count: decode everything (short clips), then pick.
  private static List<Mat> sampleUncounted(VideoCapture capture, int n, String source) {
    List<Mat> all = new ArrayList<>();
    try (Mat frame = new Mat()) {
      while (capture.read(frame) && !frame.empty()) all.add(toRgb(frame));
    }
    if (all.isEmpty()) throw new BadSampleException(source, "video has no decodable frame");
    List<Mat> frames = new ArrayList<>(n);
    for (long i : uniformIndices(all.size(), n)) frames.add(all.get((int) i).clone());
    closeAll(all);
    return frames;
  }

  /**
   * Writes RGB {@code CV_8UC3} frames of one size as a Motion-JPEG AVI (the codec every OpenCV build can read back).
   */
  public static void writeMjpeg(Path file, List<Mat> rgbFrames, double fps) {
    if (rgbFrames.isEmpty()) throw new IllegalArgumentException("no frames to write to " + file);
    Mat first = rgbFrames.getFirst();
    Loader.load(opencv_videoio.class);
    int fourcc = VideoWriter.fourcc((byte) 'M', (byte) 'J', (byte) 'P', (byte) 'G');
    try (Size size = new Size(first.cols(), first.rows());
        VideoWriter writer = new VideoWriter(file.toString(), opencv_videoio.CAP_OPENCV_MJPEG, fourcc, fps, size,
            true);
        Mat bgr = new Mat()) {
      if (!writer.isOpened()) throw new IllegalStateException("OpenCV cannot write a Motion-JPEG AVI to " + file);
      for (Mat f : rgbFrames) {
        if (f.type() != opencv_core.CV_8UC3 || f.cols() != first.cols() || f.rows() != first.rows()) {
          throw new IllegalArgumentException("every frame must be CV_8UC3 of " + first.cols() + " x " + first.rows());
        }
        opencv_imgproc.cvtColor(f, bgr, opencv_imgproc.COLOR_RGB2BGR);
        writer.write(bgr);
      }
      writer.release();
    }
  }

  private static Mat toRgb(Mat bgr) {
    Mat rgb = new Mat();
    opencv_imgproc.cvtColor(bgr, rgb, opencv_imgproc.COLOR_BGR2RGB);
    return rgb;
  }

  private static void closeAll(List<Mat> mats) {
    for (Mat m : mats) m.close();
  }
}
