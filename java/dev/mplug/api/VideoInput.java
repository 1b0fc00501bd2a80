package dev.mplug.api;

import dev.mplug.data.BadSampleException;
import dev.mplug.data.video.FrameFolder;
import dev.mplug.data.video.VideoFrames;
import dev.mplug.task.video.VideoClips;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.pytorch.Tensor;

/**
 * A video clip to ask about, read as the video tasks read clips: a frame folder (numbered JPEG / PNG frames, e.g.
 * extracted by ffmpeg), a Motion-JPEG {@code .avi} (the one codec this OpenCV build decodes) as a file or as bytes, or
 * frames given one by one as {@link ImageInput}s (an upload). The model samples its F frames uniformly from the clip
 * (as {@code mplug evaluate} does); a frame list is sampled like a frame folder, so a folder and its frames sent one by
 * one give the same answer.
 *
 * <p>A path is checked here: a missing clip, an {@code .mp4} (refused with the command that extracts its frames, the
 * message of the video tasks) or a folder without frames is an {@link IllegalArgumentException} naming the clip.
 * Frames are decoded when a model uses the clip; then an unreadable video or frame fails the same way.
 */
public final class VideoInput {
  private final String name;
  private final Path clip;
  private final byte[] avi;
  private final List<ImageInput> frames;

  private VideoInput(String name, Path clip, byte[] avi, List<ImageInput> frames) {
    this.name = name;
    this.clip = clip;
    this.avi = avi;
    this.frames = frames;
  }

  /**
   * A frame folder or a Motion-JPEG {@code .avi}; a name without extension is looked up as the annotation files name
   * clips (MSRVTT's {@code video7010}): the folder {@code video7010/}, then {@code video7010.avi}.
   */
  public static VideoInput of(Path clip) {
    if (clip == null) throw new IllegalArgumentException("video path is missing");
    try {
      Path resolved = VideoFrames.resolve(clip);
      if (Files.isDirectory(resolved)) FrameFolder.frames(resolved);
    } catch (BadSampleException e) {
      throw refused(e);
    }
    return new VideoInput(clip.toString(), clip, null, null);
  }

  /** A Motion-JPEG AVI in memory; {@code name} says which clip in error messages (e.g. an upload's field name). */
  public static VideoInput ofAvi(byte[] avi, String name) {
    if (avi == null) throw new IllegalArgumentException(name + ": video bytes are missing");
    return new VideoInput(name, null, avi.clone(), null);
  }

  /** The clip's frames in order (at least one); {@code name} says which clip in error messages. */
  public static VideoInput ofFrames(List<ImageInput> frames, String name) {
    if (frames == null || frames.isEmpty()) throw new IllegalArgumentException(name + ": the clip has no frames");
    for (int i = 0; i < frames.size(); i++) {
      if (frames.get(i) == null) throw new IllegalArgumentException(name + ": frame " + i + " is missing");
    }
    return new VideoInput(name, null, null, List.copyOf(frames));
  }

  /** What error messages call this clip: the path or the given name. */
  public String name() {
    return name;
  }

  @Override
  public String toString() {
    return name;
  }

  /** {@code clips} as one batch [n, F, 3, R, R] (a tensor of the caller's scope), F frames sampled from each. */
  static Tensor batch(List<VideoInput> clips, int frames, int res, long maxPixels) {
    return VideoClips.batch(clips.size(), frames, res, i -> clips.get(i).sample(frames, maxPixels));
  }

  /** {@code n} RGB frames spread uniformly through the clip (owned by the caller). */
  private List<Mat> sample(int n, long maxPixels) {
    try {
      if (clip != null) return VideoFrames.sample(clip, n);
      if (avi != null) return VideoFrames.sample(avi, name, n);
    } catch (BadSampleException e) {
      throw clip != null ? refused(e) : new IllegalArgumentException(e.getMessage(), e);   // "name: reason"
    }
    List<Mat> out = new ArrayList<>(n);
    try {
      for (long i : VideoFrames.uniformIndices(frames.size(), n)) out.add(frames.get((int) i).decode(maxPixels));
    } catch (RuntimeException e) {
      out.forEach(Mat::close);
      throw e;
    }
    return out;
  }

  private static IllegalArgumentException refused(BadSampleException e) {
    return new IllegalArgumentException("video " + e.source() + ": " + e.reason(), e);
  }
}
