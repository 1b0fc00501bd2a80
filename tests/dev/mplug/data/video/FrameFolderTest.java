package dev.mplug.data.video;

import static dev.mplug.data.video.VideoFramesTest.assertColour;
import static dev.mplug.data.video.VideoFramesTest.colour;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.BadSampleException;
import dev.mplug.data.image.Images;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Frame folders (what ffmpeg extracts from an .mp4) and how a clip named without extension is found. */
class FrameFolderTest {
  /** Frames 0..n-1 of solid colours as PNGs named frame_1.png .. frame_n.png (numbers unpadded: 10 after 9). */
  static Path writeFolder(Path folder, int n) throws IOException {
    Files.createDirectories(folder);
    for (int k = 0; k < n; k++) {
      int[] c = colour(k);
      try (Mat m = new Mat(48, 64, opencv_core.CV_8UC3, new Scalar(c[0], c[1], c[2], 0))) {
        Files.write(folder.resolve("frame_" + (k + 1) + ".png"), Images.toPng(m));
      }
    }
    return folder;
  }

  @Test
  void framesAreOrderedByTheirNumberAndSampledUniformly(@TempDir Path dir) throws IOException {
    Path folder = writeFolder(dir.resolve("video7010"), 12);
    Files.writeString(folder.resolve("notes.txt"), "not a frame");
    List<Path> frames = FrameFolder.frames(folder);
    assertEquals(12, frames.size(), "only the images");
    assertEquals("frame_1.png", frames.get(0).getFileName().toString());
    assertEquals("frame_10.png", frames.get(9).getFileName().toString(), "10 after 9, not after 1");
    List<Mat> sampled = VideoFrames.sample(folder, 4);                     // frames 0, 3, 6, 9
    assertEquals(4, sampled.size());
    for (int i = 0; i < 4; i++) assertColour(colour(3 * i), sampled.get(i), "sample " + i + " = frame " + 3 * i);
    sampled.forEach(Mat::close);
    // leading zeros as ffmpeg writes them (%05d) read as numbers too
    Path padded = Files.createDirectories(dir.resolve("padded"));
    for (String name : List.of("00002.jpg", "00010.jpg", "00001.jpg")) {
      Files.copy(folder.resolve("frame_1.png"), padded.resolve(name));
    }
    assertEquals(List.of("00001.jpg", "00002.jpg", "00010.jpg"),
        FrameFolder.frames(padded).stream().map(p -> p.getFileName().toString()).toList());
  }

  @Test
  void aClipNamedWithoutExtensionIsItsFolderOrItsAvi(@TempDir Path dir) throws IOException {
    Path folder = writeFolder(dir.resolve("clip_a"), 3);
    assertEquals(folder, VideoFrames.resolve(dir.resolve("clip_a")));
    Path avi = VideoFramesTest.writeClip(dir, 5);                          // dir/clip.avi
    assertEquals(avi, VideoFrames.resolve(dir.resolve("clip")));
    List<Mat> frames = VideoFrames.sample(dir.resolve("clip"), 5);
    assertColour(colour(4), frames.get(4), "the .avi's last frame");
    frames.forEach(Mat::close);
    BadSampleException e = assertThrows(BadSampleException.class, () -> VideoFrames.sample(dir.resolve("nope"), 2));
    assertEquals("video not found (looked for the file, a frame folder of that name and nope.avi)", e.reason());
  }

  @Test
  void anMp4IsRefusedWithTheCommandThatConvertsIt(@TempDir Path dir) throws IOException {
    Path mp4 = dir.resolve("video7010.mp4");
    Files.write(mp4, new byte[] {0, 0, 0, 24, 'f', 't', 'y', 'p'});
    String expected = "cannot decode .mp4 (this OpenCV build has no FFmpeg): extract its frames to the folder "
        + "video7010/ with `mkdir -p video7010 && ffmpeg -i video7010.mp4 -vf fps=4 -q:v 2 video7010/%05d.jpg` and "
        + "name the clip without extension";
    BadSampleException named = assertThrows(BadSampleException.class, () -> VideoFrames.sample(mp4, 4));
    assertEquals(mp4.toString(), named.source());
    assertEquals(expected, named.reason());
    // the official annotations name the clip without extension: the .mp4 beside it is found and refused the same way
    BadSampleException bare = assertThrows(BadSampleException.class,
        () -> VideoFrames.sample(dir.resolve("video7010"), 4));
    assertEquals(expected, bare.reason());
    // once extracted, the folder is read
    writeFolder(dir.resolve("video7010"), 2);
    List<Mat> frames = VideoFrames.sample(dir.resolve("video7010"), 2);
    assertEquals(2, frames.size());
    frames.forEach(Mat::close);
  }

  @Test
  void anEmptyFolderIsABadSample(@TempDir Path dir) throws IOException {
    Path empty = Files.createDirectories(dir.resolve("empty"));
    BadSampleException e = assertThrows(BadSampleException.class, () -> VideoFrames.sample(empty, 2));
    assertEquals(empty.toString(), e.source());
    assertTrue(e.reason().contains("no .jpg or .png frame"), e.reason());
  }
}
